"""Creates the topics a service uses, so nothing depends on broker-side auto-creation."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.contract.topology import Topics

_FOREVER = {"retention.ms": "-1"}


async def ensure_topics(bootstrap_servers: str, topics: Topics, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name,
                num_partitions=partitions,
                replication_factor=1,
                # The deployment stream is the log of record: it is never trimmed.
                topic_configs=_FOREVER if name == topics.deployment_events else {},
            )
            for name in topics.all()
            if name not in existing
        ]
        if wanted:
            # Another instance may have created them first.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(wanted)
    finally:
        await admin.close()
