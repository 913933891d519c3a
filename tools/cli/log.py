"""One deployment's records in the log, read from the beginning of its topics to their end at the start.

It joins no consumer group and commits nothing, so the live consumers are not disturbed. Records are
matched by the CloudEvents subject, as the projections group them; the key and a byte test only spare
decoding the records that cannot be about the deployment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from shared.contract.catalog import contract_registry
from shared.contract.messages import MessageRegistry
from shared.contract.topology import Stream
from shared.messaging.consumer import DeadLetter, Inbound, decode
from shared.messaging.dead_letters import Record
from shared.messaging.reader import read_batches
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
    with progress(f"reading the log for {deployment_id}") as bar:
        async for records in read_batches(s.kafka.bootstrap_servers, topics, 2000, sized=bar.size):
            bar.advance(len(records))
            for record in records:
                if record.key == key or _mentions(record, key):
                    _take(record, deployment_id, key, registry, found, unreadable)
    items = sorted(found.values(), key=lambda item: (item.envelope.time, item.envelope.id))
    return DeploymentLog(items, unreadable)


def _take(
    record: Record,
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


def _mentions(record: Record, key: bytes) -> bool:
    return key in (record.value or b"") or any(key in value for _, value in record.headers)
