"""One deployment's records in the log, read from the beginning of its topics to their end at the start.

It joins no consumer group and commits nothing, so the live consumers are not disturbed. Records are
matched by the CloudEvents subject, as the projections group them; the key and a byte test only spare
decoding the records that cannot be about the deployment.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.contract.catalog import contract_registry
from shared.contract.messages import MessageRegistry
from shared.contract.topology import Stream
from shared.messaging.consumer import DeadLetter, Inbound, decode
from tools.cli.common import check_broker, progress, settings

INVENTORY_STREAMS = (Stream.DEPLOYMENT, Stream.MONITORING)
"""What the inventory folds (services/inventory/bootstrap.py subscribes to these two topics)."""
TRAIL_STREAMS = (
    *INVENTORY_STREAMS,
    Stream.ACTIONS_COMMANDS,
    Stream.REPLACEMENT_COMMANDS,
    Stream.RETRAINING_COMMANDS,
    Stream.TRAINING_JOBS,
)
"""Everything keyed by a deployment: its events, the commands sent about it and its training jobs."""


@dataclasses.dataclass(frozen=True)
class Unreadable:
    """A record of the deployment (by key) that is not a valid message: listed, never folded."""

    topic: str
    partition: int
    offset: int
    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset} {self.code}: {self.reason}"


@dataclasses.dataclass(frozen=True)
class DeploymentLog:
    items: list[Inbound]
    """Valid messages about the deployment, each id once (its first delivery), in (time, id) order."""
    unreadable: list[Unreadable]


async def read_deployment(deployment_id: str, streams: Sequence[Stream] = TRAIL_STREAMS) -> DeploymentLog:
    s = settings()
    await check_broker()
    topics = [s.topics.for_stream(stream) for stream in streams]
    registry = contract_registry()
    key = deployment_id.encode()
    found: dict[str, Inbound] = {}
    unreadable: list[Unreadable] = []
    consumer = AIOKafkaConsumer(
        bootstrap_servers=s.kafka.bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        request_timeout_ms=max(int(s.connect_timeout_s * 1000), 5000),
    )
    await asyncio.wait_for(consumer.start(), s.connect_timeout_s * 2)
    try:
        await consumer._client.force_metadata_update()  # a fresh client may not know the topics yet
        partitions = [
            TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return DeploymentLog([], [])
        consumer.assign(partitions)
        start = await consumer.beginning_offsets(partitions)
        end = {tp: offset for tp, offset in (await consumer.end_offsets(partitions)).items() if offset > start[tp]}
        await consumer.seek_to_beginning(*partitions)
        with progress(f"reading the log for {deployment_id}", sum(end[tp] - start[tp] for tp in end)) as bar:
            while end:
                for tp, records in (await consumer.getmany(*end, timeout_ms=1000, max_records=2000)).items():
                    mine = [r for r in records if r.offset < end.get(tp, 0)]
                    bar.advance(len(mine))
                    for record in mine:
                        if record.key == key or _mentions(record, key):
                            _take(record, deployment_id, key, registry, found, unreadable)
                    if tp in end and await consumer.position(tp) >= end[tp]:
                        del end[tp]
    finally:
        await consumer.stop()
    items = sorted(found.values(), key=lambda item: (item.envelope.time, item.envelope.id))
    return DeploymentLog(items, unreadable)


def _take(
    record: ConsumerRecord[bytes, bytes],
    deployment_id: str,
    key: bytes,
    registry: MessageRegistry,
    found: dict[str, Inbound],
    unreadable: list[Unreadable],
) -> None:
    item = decode(record, registry)
    if isinstance(item, DeadLetter):
        if record.key == key:  # keyed to it, so surely its; a mere mention may be another deployment's
            unreadable.append(
                Unreadable(record.topic, record.partition, record.offset, item.error.code, item.error.reason)
            )
        return
    # A message published twice is one fact: keep its first delivery, as the projections do.
    if item.envelope.subject == deployment_id and item.envelope.id not in found:
        found[item.envelope.id] = item


def _mentions(record: ConsumerRecord[bytes, bytes], key: bytes) -> bool:
    return key in (record.value or b"") or any(key in value for _, value in record.headers)
