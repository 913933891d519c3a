"""Reads topics from their beginning up to the end they had when reading started.

It joins no consumer group and commits nothing: for replays, audits and dead-letter listings, which
must not disturb the live consumers. What arrives after the start belongs to the live consumers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


async def read_batches(bootstrap: str, topics: Sequence[str], batch_size: int = 1000) -> AsyncIterator[list[Record]]:
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
        end = {tp: offset for tp, offset in (await consumer.end_offsets(partitions)).items() if offset > 0}
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
