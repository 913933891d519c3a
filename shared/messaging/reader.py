"""Reads topics from their beginning up to the end they had when reading started.

It joins no consumer group and commits nothing: for replays, audits and dead-letter listings, which
must not disturb the live consumers. What arrives after the start belongs to the live consumers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


async def read_batches(
    bootstrap: str,
    topics: Sequence[str],
    batch_size: int = 1000,
    *,
    since: datetime | None = None,
    sized: Callable[[int], None] | None = None,
) -> AsyncIterator[list[Record]]:
    """`since`: start each partition at its first record of that time or later (Kafka's offset for a
    timestamp); `sized` is told how many records will be read, before the first batch."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # a fresh client may not know the topics yet
        partitions = [
            TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        start = {tp: await consumer.position(tp) for tp in partitions}
        ends = await consumer.end_offsets(partitions)
        if since is not None:
            found = await consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in partitions})
            for tp in partitions:
                at = found.get(tp)
                start[tp] = at.offset if at is not None else ends[tp]
                consumer.seek(tp, start[tp])
        end = {tp: offset for tp, offset in ends.items() if offset > start[tp]}
        if sized is not None:
            sized(sum(offset - start[tp] for tp, offset in end.items()))
        while end:
            batch: list[Record] = []
            for tp, records in (await consumer.getmany(*end, timeout_ms=1000, max_records=batch_size)).items():
                batch += [record for record in records if record.offset < end.get(tp, 0)]
                if tp in end and await consumer.position(tp) >= end[tp]:
                    del end[tp]
            if batch:
                yield batch
    finally:
        await consumer.stop()


async def read_all(bootstrap: str, topics: Sequence[str]) -> AsyncIterator[Record]:
    async for batch in read_batches(bootstrap, topics):
        for record in batch:
            yield record
