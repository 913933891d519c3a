"""Long mixed streams for the replay tests, and waiting until a live service has settled.

Records go out as producers in the wild send them: most keyed (murmur2, aiokafka's default), some on a
wrong partition, some twice under the same event or command id (a producer's retry)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.contract.envelope import to_structured, wrap
from shared.contract.messages import Command, Message
from shared.contract.topology import Topics
from shared.messaging.partitioning import partition_for
from tests.support import Publisher, eventually


async def send_mixed(
    publisher: Publisher,
    namespace: str,
    items: Sequence[Message | tuple[Message, datetime]],
    rng: random.Random,
    *,
    wrong: float = 0.1,
    twice: float = 0.05,
) -> int:
    """Send each item to its stream's topic; returns the number of records sent. Commands go keyed (a
    command topic's producer is ours); events `wrong` of the time to a wrong partition."""
    producer = publisher.producer
    assert producer is not None
    topics = Topics(namespace)
    sent = 0
    futures = []
    for item in items:
        message, time = item if isinstance(item, tuple) else (item, None)
        command = isinstance(message, Command)
        event_id = message.command_id if isinstance(message, Command) else str(uuid.uuid4())
        actor = message.actor.user if isinstance(message, Command) else "alice"
        envelope = wrap(message, source="tests/cli", event_id=event_id, time=time, actor=actor)
        value, headers = to_structured(envelope)
        topic = topics.for_stream(message.stream)
        key = envelope.subject.encode()
        partitions = sorted(await producer.partitions_for(topic))
        partition = None
        if not command and len(partitions) > 1 and rng.random() < wrong:
            right = partition_for(key, len(partitions))
            partition = rng.choice([p for p in partitions if p != right])
        for _ in range(2 if rng.random() < twice else 1):
            futures.append(await producer.send(topic, value=value, key=key, partition=partition, headers=headers))
            sent += 1
    await asyncio.gather(*futures)
    return sent


async def settled(bootstrap: str, groups: Sequence[str], topics: Sequence[str], within: float = 150) -> None:
    """Until the consumer groups have committed the end of every partition of `topics`, twice in a row a
    second apart (a command service publishes its decisions before committing, so the ends move on)."""
    await settled_groups(bootstrap, {group: topics for group in groups}, within)


async def settled_groups(bootstrap: str, groups: Mapping[str, Sequence[str]], within: float = 150) -> None:
    """`settled` for groups that each read their own topics."""
    seen: list[dict[TopicPartition, int]] = []

    async def caught_up() -> None:
        ends = await _ends(bootstrap, sorted({t for topics in groups.values() for t in topics}))
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            for group, topics in groups.items():
                committed = await admin.list_consumer_group_offsets(group)
                mine = {tp: end for tp, end in ends.items() if tp.topic in topics and end}
                behind = {tp: end for tp, end in mine.items() if tp not in committed or committed[tp].offset < end}
                assert not behind, f"{group} is behind on {behind}"
        finally:
            await admin.close()
        seen.append(ends)
        assert len(seen) >= 2 and seen[-1] == seen[-2], "the topics are still growing"

    await eventually(caught_up, within=within, interval=1.0)


async def _ends(bootstrap: str, topics: Sequence[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        return dict(await consumer.end_offsets(partitions)) if partitions else {}
    finally:
        await consumer.stop()
