"""Publishes envelopes keyed by subject (the deployment id) with an idempotent producer (acks=all)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer

from shared.contract.envelope import Envelope, Headers, to_structured, wrap
from shared.contract.messages import Message
from shared.contract.topology import Topics


class KafkaPublisher:
    def __init__(self, bootstrap_servers: str, topics: Topics, source: str) -> None:
        self.topics = topics
        self.source = source
        self._bootstrap_servers = bootstrap_servers
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        # aiokafka binds to the running loop, so the producer is made here rather than in __init__.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers,
            client_id=self.source,
            enable_idempotence=True,
            linger_ms=5,
            max_batch_size=256 * 1024,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, message: Message, **attributes: Any) -> Envelope:
        """Publish one message and wait until the broker has it; `attributes` go to `wrap`."""
        envelope = wrap(message, source=self.source, **attributes)
        await self.publish_envelopes([envelope], [message])
        return envelope

    async def publish_envelopes(self, envelopes: Sequence[Envelope], messages: Sequence[Message]) -> None:
        """Send many at once; per-key order holds because one partition has one batch in flight."""
        futures = []
        for envelope, message in zip(envelopes, messages, strict=True):
            value, headers = to_structured(envelope)
            topic = self.topics.for_stream(message.stream)
            futures.append(await self._send(topic, value, envelope.subject.encode(), headers))
        await asyncio.gather(*futures)

    async def send_raw(self, topic: str, value: bytes | None, key: bytes | None, headers: Headers) -> None:
        await (await self._send(topic, value, key, headers))

    async def _send(self, topic: str, value: bytes | None, key: bytes | None, headers: Headers) -> asyncio.Future[Any]:
        if self._producer is None:
            raise RuntimeError("publisher is not started")
        future: asyncio.Future[Any] = await self._producer.send(topic, value=value, key=key, headers=headers)
        return future
