"""The consumer path: decode and validate each record, dead-letter what is bad, hand the rest on.

A batch is processed in three steps: dead letters are published, the valid messages are applied by
the service's handler, and only then are offsets committed. A crash anywhere in between redelivers
the batch; handlers dedupe (see shared.storage.projection), so nothing is lost and nothing applied twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from shared.contract.envelope import Envelope, Headers, InvalidMessage, from_record, open_envelope
from shared.contract.messages import Message, MessageRegistry
from shared.domain.recorded import Recorded
from shared.messaging.publisher import KafkaPublisher
from shared.service.logging import bound, get_logger
from shared.service.metrics import ServiceMetrics

log = get_logger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Position:
    topic: str
    partition: int
    offset: int


@dataclasses.dataclass(frozen=True, slots=True)
class Inbound:
    """A valid message with its envelope and where it was read from."""

    envelope: Envelope
    message: Message
    position: Position

    @property
    def recorded(self) -> Recorded[Message]:
        """The event as the domain sees it: no topic, partition or offset."""
        e = self.envelope
        return Recorded(
            message=self.message,
            id=e.id,
            time=e.time,
            subject=e.subject,
            actor=e.actor,
            correlation_id=e.correlationid,
            causation_id=e.causationid,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class DeadLetter:
    record: ConsumerRecord[bytes, bytes]
    error: InvalidMessage


BatchHandler = Callable[[Sequence[Inbound]], Awaitable[object]]


def decode(record: ConsumerRecord[bytes, bytes], registry: MessageRegistry) -> Inbound | DeadLetter:
    try:
        envelope = from_record(record.value, list(record.headers))
        message = open_envelope(envelope, registry)
    except InvalidMessage as error:
        return DeadLetter(record, error)
    return Inbound(envelope, message, Position(record.topic, record.partition, record.offset))


def dead_letter_headers(letter: DeadLetter, service: str) -> Headers:
    record = letter.record
    return [
        *record.headers,
        ("dlq-error-code", letter.error.code.encode()),
        ("dlq-error", letter.error.reason.encode()),
        ("dlq-source-topic", record.topic.encode()),
        ("dlq-source-partition", str(record.partition).encode()),
        ("dlq-source-offset", str(record.offset).encode()),
        ("dlq-service", service.encode()),
        ("dlq-failed-at", datetime.now(UTC).isoformat().encode()),
    ]


class BatchConsumer:
    """Wires a FastStream batch subscriber to a handler of valid messages, with a dead-letter topic."""

    def __init__(
        self,
        *,
        service: str,
        registry: MessageRegistry,
        publisher: KafkaPublisher,
        handler: BatchHandler,
        metrics: ServiceMetrics,
        retry_backoff_s: float = 1.0,
    ) -> None:
        self.service = service
        self.registry = registry
        self.publisher = publisher
        self.handler = handler
        self.metrics = metrics
        self.retry_backoff_s = retry_backoff_s

    def subscribe(
        self, broker: KafkaBroker, topics: Sequence[str], *, group_id: str, max_records: int, timeout_ms: int
    ) -> None:
        broker.subscriber(
            *topics,
            group_id=group_id,
            batch=True,
            max_records=max_records,
            batch_timeout_ms=timeout_ms,
            auto_offset_reset="earliest",
            # Commit after the handler succeeds; on an error rewind so the batch comes back.
            ack_policy=AckPolicy.NACK_ON_ERROR,
            parser=_parse_with_any_headers,
            decoder=_records,
        )(self.consume)

    async def consume(self, records: Any) -> None:
        await self.process(records)

    async def process(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        if records:
            oldest_ms = min(record.timestamp for record in records)
            self.metrics.lag_seconds.set(max(0.0, time.time() - oldest_ms / 1000))
        decoded = [decode(record, self.registry) for record in records]
        letters = [item for item in decoded if isinstance(item, DeadLetter)]
        valid = [item for item in decoded if isinstance(item, Inbound)]
        try:
            if letters:
                await self._dead_letter(letters)
            if valid:
                with self.metrics.handler_seconds.time():
                    await self.handler(valid)
        except Exception:
            log.exception("batch failed; it will be redelivered", records=len(records))
            self.metrics.batch_failures.inc()
            await asyncio.sleep(self.retry_backoff_s)
            raise
        for item in valid:
            self.metrics.events_applied.labels(type=item.envelope.type).inc()
            e = item.envelope
            log.debug("handled", event_id=e.id, type=e.type, deployment_id=e.subject, correlation_id=e.correlationid)

    async def _dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        topic = self.publisher.topics.dead_letters
        for letter in letters:
            record = letter.record
            with bound(source_topic=record.topic, source_offset=str(record.offset)):
                log.warning("dead-lettered", code=letter.error.code, reason=letter.error.reason)
            await self.publisher.send_raw(topic, record.value, record.key, dead_letter_headers(letter, self.service))
            self.metrics.events_dead_lettered.labels(code=letter.error.code).inc()


async def _parse_with_any_headers(records: tuple[ConsumerRecord[bytes, bytes], ...], original: Any) -> Any:
    """FastStream decodes every header as UTF-8; a producer may send anything, so hand it safe copies
    and keep the untouched records for the handler and the dead-letter topic."""
    safe = tuple(
        dataclasses.replace(record, headers=[(k, v.decode("utf-8", "replace").encode()) for k, v in record.headers])
        for record in records
    )
    message = await original(safe)
    message.raw_message = records
    return message


async def _records(message: Any) -> Any:
    return message.raw_message
