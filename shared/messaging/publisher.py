"""Publishes through the service's FastStream broker, so a service has one producer connection.

Envelopes go through a typed publisher per stream (`broker.publisher(topic)`, documented in the
broker's AsyncAPI), keyed by subject (the deployment id). The broker's producer is idempotent with
acks=all (`kafka_broker`), so a retried send is written once and an acknowledged one is replicated.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.publisher.producer import AioKafkaFastProducerImpl

from shared.contract.envelope import Envelope, Headers, to_structured, wrap
from shared.contract.messages import Message
from shared.contract.topology import Stream, Topics


def kafka_broker(bootstrap_servers: str, *, client_id: str, logger: logging.Logger | None = None) -> KafkaBroker:
    """The FastStream broker of one process: its subscribers and its one idempotent producer."""
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,  # a retried send is written once
        acks="all",  # what idempotence implies; stated so that nobody turns it down by accident
        linger_ms=5,
        max_batch_size=256 * 1024,
        # FastStream logs every batch; keep that at DEBUG and let our structured logs speak.
        logger=logger or logging.getLogger(f"lifecycle.{client_id}.faststream"),
        log_level=logging.DEBUG,
    )


class KafkaPublisher:
    def __init__(self, broker: KafkaBroker, topics: Topics, source: str) -> None:
        self.broker = broker
        self.topics = topics
        self.source = source
        self._by_stream = {
            stream: broker.publisher(topics.for_stream(stream), title=f"{topics.for_stream(stream)}:publish")
            for stream in Stream
        }

    async def publish(self, message: Message, **attributes: Any) -> Envelope:
        """Publish one message and wait until the broker has it; `attributes` go to `wrap`."""
        envelope = wrap(message, source=self.source, **attributes)
        await self.publish_envelopes([envelope], [message])
        return envelope

    async def publish_envelopes(self, envelopes: Sequence[Envelope], messages: Sequence[Message]) -> None:
        """Send many at once and wait for all; per-key order holds because the idempotent producer
        keeps the order of sends within a partition."""
        pending = []
        for envelope, message in zip(envelopes, messages, strict=True):
            body, headers = to_structured(envelope)
            sent = await self._by_stream[message.stream].publish(
                body,
                key=envelope.subject.encode(),
                headers={name: raw.decode() for name, raw in headers},
                correlation_id=envelope.correlationid,
                no_confirm=True,
            )
            if sent is not None:  # TestKafkaBroker delivers in memory and hands back nothing to wait for
                pending.append(sent)
        await asyncio.gather(*pending)

    async def send_raw(self, topic: str, value: bytes | None, key: bytes | None, headers: Headers) -> None:
        """Send a record byte for byte (dead letters, re-drives): value, key and every header as given."""
        driver = _driver_producer(self.broker)
        if driver is None:
            # In memory (TestKafkaBroker) there is only FastStream's text-header publish.
            text = {name: raw.decode("utf-8", "replace") for name, raw in headers}
            await self.broker.publish(value, topic, key=key, headers=text)
            return
        await (await driver.send(topic, value=value, key=key, headers=headers))


def _driver_producer(broker: KafkaBroker) -> Any | None:
    """The aiokafka producer inside the broker's own FastStream producer: the same connection.

    FastStream's publish takes headers as str -> str and encodes them as UTF-8, so it cannot forward
    arbitrary header bytes or repeated header names (ag2ai/faststream#2214); a dead letter must keep
    them exactly. None when the broker is not connected to Kafka (TestKafkaBroker)."""
    producer = broker.config.producer
    if not isinstance(producer, AioKafkaFastProducerImpl):
        return None
    if not producer:
        raise RuntimeError("the broker is not connected; start or connect it before publishing")
    return producer._producer.producer


@asynccontextmanager
async def standalone_publisher(bootstrap_servers: str, topics: Topics, source: str) -> AsyncIterator[KafkaPublisher]:
    """A publisher with its own connected broker, for tools that only publish (CLI, demo, bench)."""
    broker = kafka_broker(bootstrap_servers, client_id=source.replace("/", "-"))
    publisher = KafkaPublisher(broker, topics, source)
    await broker.connect()
    try:
        yield publisher
    finally:
        await broker.stop()
