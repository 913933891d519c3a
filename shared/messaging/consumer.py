"""The consumer path: decode and validate each record, hand the valid ones on, isolate what fails.

A batch is processed in three steps: the valid messages are applied by the service's handler, the
records that cannot be applied are dead-lettered, and only then are offsets committed. A crash
anywhere in between redelivers the batch; handlers dedupe (see shared.storage.projection) and dead
letters are sent at most once per source position (shared.messaging.dead_letters), so nothing is
lost and nothing applied or lettered twice.

What fails is sorted out by shared.messaging.isolation: transient errors are retried in place, with
the consumer reported stalled (readiness, `lifecycle_consumer_stalled`) once that lasts too long;
deterministic ones are narrowed down to the records that cause them, which alone are dead-lettered
with code `handler-error`. A record that is not on the partition its key hashes to, or has no key,
is applied all the same and counted (shared.messaging.partitioning).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber

from shared.contract.envelope import Envelope, InvalidMessage, from_record, open_envelope
from shared.contract.messages import Message, MessageRegistry
from shared.domain.recorded import Recorded
from shared.messaging.dead_letters import DeadLetter, DeadLetters, Record
from shared.messaging.isolation import Retrier, describe, isolate
from shared.messaging.partitioning import misrouting
from shared.service.logging import get_logger
from shared.service.metrics import ServiceMetrics
from shared.service.settings import ConsumerSettings

log = get_logger(__name__)

__all__ = ["BatchConsumer", "BatchHandler", "DeadLetter", "Inbound", "Position", "decode"]


@dataclasses.dataclass(frozen=True, slots=True)
class Position:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int = 0
    """The record's Kafka timestamp (when it was produced), for a replay that interleaves partitions."""


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


BatchHandler = Callable[[Sequence[Inbound]], Awaitable[object]]


@runtime_checkable
class ReleasingHandler(Protocol):
    """A handler that reserves something per record before applying it (the projection claims event
    ids) and must give it back for records that end up dead-lettered, so that a re-driven copy of
    one of them (same event id, new offset) is applied rather than taken for a duplicate."""

    async def release(self, batch: Sequence[Inbound]) -> None: ...


"""Applies valid messages; idempotent, and may be re-invoked on any subset of a batch."""


def decode(record: Record, registry: MessageRegistry) -> Inbound | DeadLetter:
    try:
        envelope = from_record(record.value, list(record.headers))
        message = open_envelope(envelope, registry)
    except InvalidMessage as error:
        return DeadLetter(record, error)
    return Inbound(envelope, message, Position(record.topic, record.partition, record.offset, record.timestamp))


class BatchConsumer:
    """Wires a FastStream batch subscriber to a handler of valid messages, with a dead-letter topic."""

    def __init__(
        self,
        *,
        service: str,
        group_id: str,
        registry: MessageRegistry,
        handler: BatchHandler,
        dead_letters: DeadLetters,
        metrics: ServiceMetrics,
        settings: ConsumerSettings,
    ) -> None:
        self.service = service
        self.group_id = group_id
        self.registry = registry
        self.handler = handler
        self.dead_letters = dead_letters
        self.metrics = metrics
        self.settings = settings
        self.retrier = Retrier(
            settings.retry_backoff_s,
            settings.retry_backoff_max_s,
            on_transient=self._transient_failure,
            on_success=self._progressed,
        )
        self._subscriber: BatchSubscriber | None = None
        self._batch_started = time.monotonic()
        self._oldest_ms: int | None = None
        self._failing_since: float | None = None
        self._last_error = ""

    def subscribe(self, broker: KafkaBroker, topics: Sequence[str]) -> None:
        self._subscriber = broker.subscriber(
            *topics,
            group_id=self.group_id,
            batch=True,
            max_records=self.settings.batch_max_records,
            batch_timeout_ms=self.settings.batch_timeout_ms,
            auto_offset_reset="earliest",
            # Commit after the batch is handled; only an unexpected error rewinds it.
            ack_policy=AckPolicy.NACK_ON_ERROR,
            parser=_parse_with_any_headers,
            decoder=_untouched_records,
        )
        self._subscriber(self.consume)

    async def consume(self, message: KafkaMessage) -> None:
        records = message.raw_message
        # A batch is a tuple from Kafka and a list from TestKafkaBroker.
        await self.process(records if isinstance(records, (tuple, list)) else (records,))

    def readiness(self) -> str:
        """Answers "ok", or why this consumer is not making progress."""
        stalled_for = self._stalled_for()
        self.metrics.consumer_stalled.set(0 if stalled_for is None else 1)
        if stalled_for is None:
            return "ok"
        return f"stalled for {stalled_for:.0f}s retrying a transient failure: {self._last_error}"

    async def process(self, records: Sequence[Record]) -> None:
        if not records:
            return
        self._batch_started = time.monotonic()
        self._oldest_ms = min(record.timestamp for record in records)
        self._observe_lag()
        letters: list[DeadLetter] = []
        valid: list[Inbound] = []
        raw: dict[Position, Record] = {}
        for record in records:
            item = decode(record, self.registry)
            self._check_routing(record, item)
            if isinstance(item, DeadLetter):
                letters.append(item)
            else:
                valid.append(item)
                raw[item.position] = record
        failures = await isolate(self._timed_handler, valid, self.retrier, self._deterministic_failure)
        failed = {failure.item.position for failure in failures}
        handler = self.handler
        if failures and isinstance(handler, ReleasingHandler):
            await self.retrier.run(lambda: handler.release([f.item for f in failures]))
        letters += [
            DeadLetter(raw[f.item.position], InvalidMessage("handler-error", describe(f.error))) for f in failures
        ]
        if letters:
            await self._dead_letter(letters)
        for item in valid:
            if item.position in failed:
                continue
            self.metrics.events_applied.labels(type=item.envelope.type).inc()
            e = item.envelope
            log.debug("handled", event_id=e.id, type=e.type, deployment_id=e.subject, correlation_id=e.correlationid)

    async def _timed_handler(self, batch: Sequence[Inbound]) -> None:
        with self.metrics.handler_seconds.time():
            await self.handler(batch)

    async def _dead_letter(self, letters: list[DeadLetter]) -> None:
        sent: list[DeadLetter] = []

        async def send() -> None:
            sent.extend(await self.dead_letters.send(letters, group=self.group_id))

        try:
            await self.retrier.run(send)
        except Exception:
            # Retrying could not help (e.g. a record too large for the dead-letter topic): the
            # records stay in their source topic and the log names them; the partition goes on.
            where = [f"{r.topic}[{r.partition}]@{r.offset}" for r in (letter.record for letter in letters)]
            log.exception("could not dead-letter; records skipped", records=where)
        for letter in sent:
            self.metrics.events_dead_lettered.labels(code=letter.error.code).inc()

    def _check_routing(self, record: Record, item: Inbound | DeadLetter) -> None:
        reason = misrouting(record.key, record.partition, self._partition_count(record.topic))
        if reason is None:
            return
        self.metrics.records_misrouted.labels(reason=reason.value, topic=record.topic).inc()
        log.warning(
            "record not on the partition its key hashes to (murmur2); applied anyway",
            reason=reason.value,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key.decode(errors="replace") if record.key is not None else None,
            ce_source=item.envelope.source if isinstance(item, Inbound) else None,
        )

    def _partition_count(self, topic: str) -> int | None:
        # The subscriber's own consumer knows the topics it reads (None in memory or before start).
        consumer = self._subscriber.consumer if self._subscriber is not None else None
        partitions = consumer.partitions_for_topic(topic) if consumer is not None else None
        return len(partitions) if partitions else None

    def _transient_failure(self, error: BaseException, attempts: int) -> None:
        self.metrics.batch_failures.inc()
        if self._failing_since is None:
            self._failing_since = self._batch_started
        self._last_error = describe(error)
        self._observe_lag()
        self.readiness()
        log.warning(
            "transient failure; retrying the batch in place",
            error=self._last_error,
            attempts=attempts,
            retry_in_s=self.retrier.delay(attempts),
        )

    def _deterministic_failure(self, error: BaseException, size: int) -> None:
        self.metrics.batch_failures.inc()
        log.warning("handler failed; isolating the records that cause it", error=describe(error), records=size)

    def _progressed(self) -> None:
        if self._failing_since is not None:
            log.info("consumer making progress again", after_s=round(time.monotonic() - self._failing_since, 1))
        self._failing_since = None
        self.readiness()

    def _stalled_for(self) -> float | None:
        if self._failing_since is None:
            return None
        waited = time.monotonic() - self._failing_since
        return waited if waited >= self.settings.stalled_after_s else None

    def _observe_lag(self) -> None:
        if self._oldest_ms is not None:
            self.metrics.lag_seconds.set(max(0.0, time.time() - self._oldest_ms / 1000))


async def _parse_with_any_headers(records: tuple[Record, ...], original: Any) -> Any:
    """FastStream decodes every header as UTF-8; a producer may send anything, so hand it safe copies
    and keep the untouched records for the handler and the dead-letter topic."""
    safe = tuple(
        dataclasses.replace(record, headers=[(k, v.decode("utf-8", "replace").encode()) for k, v in record.headers])
        for record in records
    )
    message = await original(safe)
    message.raw_message = records
    return message


async def _untouched_records(message: Any) -> Any:
    """The body is the records themselves: FastStream's own decoder would parse them again, headers
    and all, and fail on the bytes the parser protects it from."""
    return message.raw_message
