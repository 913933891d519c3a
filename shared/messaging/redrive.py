"""Dead letters read back, and re-driven: each sent again, unchanged (value, key, original headers), to
the partition of the topic it came from.

A re-drive is recorded on the dead-letter topic itself, as a marker record: no payload of its own, the
header `dlq-redrive-of` naming the letter and a small JSON value saying where the copy went (topic,
partition, offset) and when. The log stays the one place that knows, for every reader:
- a letter with a marker is `redriven`; the CLI re-drives it again only when asked (`again`), so an
  operator's second run does not send it twice (consumers dedupe by event id, the inventory exactly;
  the command services dedupe commands by id but fold an upstream event at every new offset);
- a copy that fails again is lettered again by its consumer, from its new position, under a new
  letter id: that letter is a `retry` of the first (its source position is the one the marker names),
  and the first is shown as `failed-again`. Nothing else is needed to follow a letter's re-drives.
A re-drive that fails (the source topic is gone, the send fails) writes no marker: the letter stays
`pending`, as it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.contract.envelope import InvalidMessage, from_record
from shared.messaging.dead_letters import Header, Record
from shared.messaging.reader import read_all

REDRIVE_OF = "dlq-redrive-of"
"""The header of a re-drive marker: the id of the letter re-driven."""


@dataclasses.dataclass(frozen=True)
class Redrive:
    """Where a letter's copy was sent, and when."""

    topic: str
    partition: int
    offset: int
    at: datetime

    @property
    def position(self) -> tuple[str, int, int]:
        return (self.topic, self.partition, self.offset)

    def marker(self) -> dict[str, Any]:
        """The value of the marker record (schemas/asyncapi.json: DeadLetterRedriven)."""
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset, "at": self.at.isoformat()}


@dataclasses.dataclass
class Letter:
    """One dead letter (shown once however often it was published), its re-drives and its lineage."""

    id: str
    record: Record
    headers: dict[str, str]
    type: str
    event_id: str | None
    redrives: list[Redrive] = dataclasses.field(default_factory=list)
    retry_of: str | None = None
    """The letter whose re-driven copy failed again as this one."""
    retried_as: list[str] = dataclasses.field(default_factory=list)

    def header(self, name: str) -> str:
        return self.headers.get(name, "")

    @property
    def source(self) -> tuple[str, int, int] | None:
        try:
            topic = self.headers[Header.SOURCE_TOPIC]
            return (topic, int(self.headers[Header.SOURCE_PARTITION]), int(self.headers[Header.SOURCE_OFFSET]))
        except (KeyError, ValueError):
            return None

    @property
    def failed_at(self) -> datetime:
        try:
            return datetime.fromisoformat(self.headers[Header.FAILED_AT]).astimezone(UTC)
        except (KeyError, ValueError):
            return datetime.fromtimestamp(self.record.timestamp / 1000, UTC)

    @property
    def status(self) -> str:
        """`pending` (never re-driven), `redriven`, or `failed-again` (its copy was lettered again)."""
        if self.retried_as:
            return "failed-again"
        return "redriven" if self.redrives else "pending"


async def read_letters(bootstrap_servers: str, topic: str) -> list[Letter]:
    """Every letter of the dead-letter topic, oldest first, each once, with its re-drives and lineage."""
    letters: dict[str, Letter] = {}
    markers: list[tuple[str, Redrive]] = []
    async for record in read_all(bootstrap_servers, [topic]):
        headers = {k: v.decode(errors="replace") for k, v in record.headers if k.startswith(Header.PREFIX)}
        if REDRIVE_OF in headers:
            marker = _marker(record)
            if marker is not None:
                markers.append((headers[REDRIVE_OF], marker))
            continue
        key = headers.get(Header.ID) or f"{record.partition}@{record.offset}"
        if key not in letters:  # a crash between publishing a letter and recording it sends it twice
            kind, event_id = _described(record)
            letters[key] = Letter(key, record, headers, kind, event_id)
    by_position: dict[tuple[str, int, int], str] = {}
    for letter_id, redrive in markers:
        if letter_id in letters:
            letters[letter_id].redrives.append(redrive)
            by_position[redrive.position] = letter_id
    for letter in letters.values():
        first = by_position.get(letter.source) if letter.source else None
        if first is not None and first != letter.id:
            letter.retry_of = first
            letters[first].retried_as.append(letter.id)
    # The topic's partitions come back in any order: oldest first is by the time each letter was written.
    return sorted(letters.values(), key=lambda letter: (letter.failed_at, letter.id))


def _marker(record: Record) -> Redrive | None:
    try:
        value = orjson.loads(record.value or b"")
        return Redrive(
            value["topic"], int(value["partition"]), int(value["offset"]), datetime.fromisoformat(value["at"])
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def _described(record: Record) -> tuple[str, str | None]:
    """The letter's message type and event id, as far as they can be read."""
    try:
        envelope = from_record(record.value, list(record.headers))
        return envelope.type, envelope.id
    except InvalidMessage:
        pass
    headers = {k: v.decode(errors="replace") for k, v in record.headers}
    try:
        body: Any = orjson.loads(record.value or b"")
    except orjson.JSONDecodeError:
        body = None
    body = body if isinstance(body, dict) else {}
    kind = headers.get("ce_type") or body.get("type")
    event_id = headers.get("ce_id") or body.get("id")
    return (str(kind) if kind else "(unreadable)"), (str(event_id) if event_id else None)


@dataclasses.dataclass(frozen=True)
class Attempt:
    letter: Letter
    redrive: Redrive | None
    error: str | None = None


async def redrive(bootstrap_servers: str, dead_letter_topic: str, letters: Sequence[Letter]) -> list[Attempt]:
    """Send each letter back to its source partition and record the re-drive; a letter whose source topic
    no longer exists (the broker would create it anew) or whose send fails is reported and left pending."""
    existing = await _topics(bootstrap_servers)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True)
    await producer.start()
    attempts: list[Attempt] = []
    try:
        for letter in letters:
            attempts.append(await _one(producer, existing, dead_letter_topic, letter))
    finally:
        await producer.stop()
    return attempts


async def _one(producer: AIOKafkaProducer, existing: set[str], dead_letter_topic: str, letter: Letter) -> Attempt:
    source = letter.source
    if source is None:
        return Attempt(letter, None, "the letter does not say where it came from (dlq-source-* headers)")
    topic, partition, _ = source
    if topic not in existing:
        return Attempt(letter, None, f"the source topic {topic} no longer exists")
    record = letter.record
    original = [(k, v) for k, v in record.headers if not k.startswith(Header.PREFIX)]
    try:
        sent = await producer.send_and_wait(topic, record.value, record.key, partition=partition, headers=original)
    except Exception as error:  # the broker's refusal, a partition gone: reported, the letter stays pending
        return Attempt(letter, None, f"{type(error).__name__}: {error}")
    done = Redrive(topic, sent.partition, sent.offset, datetime.now(UTC))
    try:
        await producer.send_and_wait(
            dead_letter_topic,
            orjson.dumps(done.marker()),
            letter.id.encode(),
            headers=[(REDRIVE_OF, letter.id.encode())],
        )
    except Exception as error:
        return Attempt(letter, done, f"re-driven, but its marker was not written ({type(error).__name__}: {error})")
    return Attempt(letter, done)


async def _topics(bootstrap_servers: str) -> set[str]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        return set(await consumer.topics())
    finally:
        await consumer.stop()
