"""Reads topics from their beginning up to their current end and hands batches to a handler.

Used to rebuild a projection from the log (into an empty collection, with the same apply code the
live consumer uses) and by the operator CLI. It joins no consumer group and commits nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.kafka.consumer import BatchHandler, DeadLetter, Inbound, decode
from shared.messages import MessageRegistry


@dataclasses.dataclass
class ReplayStats:
    records: int = 0
    applied: int = 0
    invalid: int = 0


async def replay(
    bootstrap_servers: str,
    topics: Sequence[str],
    handler: BatchHandler,
    registry: MessageRegistry,
    *,
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayStats:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None)
    await consumer.start()
    stats = ReplayStats()
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in sorted(consumer.partitions_for_topic(topic) or await _partitions(consumer, topic))
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        # Snapshot the end now: what arrives during the replay belongs to the live consumer.
        end = {tp: offset for tp, offset in (await consumer.end_offsets(partitions)).items() if offset > 0}
        total = sum(end.values())
        while end:
            fetched = await consumer.getmany(*end, timeout_ms=1000, max_records=batch_size)
            batch: list[Inbound] = []
            for tp, records in fetched.items():
                for record in records:
                    if record.offset >= end.get(tp, 0):
                        continue
                    stats.records += 1
                    item = decode(record, registry)
                    if isinstance(item, DeadLetter):
                        stats.invalid += 1
                    else:
                        batch.append(item)
                if tp in end and await consumer.position(tp) >= end[tp]:
                    del end[tp]
            if batch:
                await handler(batch)
                stats.applied += len(batch)
            if progress:
                progress(stats.records, total)
    finally:
        await consumer.stop()
    return stats


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # a fresh consumer may not know the topic yet
    return consumer.partitions_for_topic(topic) or set()
