"""The dead-letter topic, written at most once per source position.

A dead letter is the original record (value, key and headers untouched) plus `dlq-*` headers saying
why and from where. Retries, redeliveries and restarts must not letter a record again, so each
source position (consumer group, topic, partition, offset) is claimed in a small ledger collection
of the service's database before its letter is published and marked sent after. A crash between
the two publishes it twice at worst; the deterministic `dlq-id` header lets readers show it once.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeAlias

from aiokafka import ConsumerRecord
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from shared.contract.envelope import Headers, InvalidMessage, derived_id
from shared.service.logging import bound, get_logger
from shared.storage.backend import FERRETDB_WRITES_PER_COMMAND
from shared.storage.mongo import Document

log = get_logger(__name__)

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"
LEDGER_COLLECTION = "dead_letter_ledger"
_DUPLICATE_KEY = 11000


class Header:
    """Names of the headers a dead letter carries next to the original ones."""

    ID = "dlq-id"
    CODE = "dlq-error-code"
    REASON = "dlq-error"
    SOURCE_TOPIC = "dlq-source-topic"
    SOURCE_PARTITION = "dlq-source-partition"
    SOURCE_OFFSET = "dlq-source-offset"
    SERVICE = "dlq-service"
    GROUP = "dlq-group"
    FAILED_AT = "dlq-failed-at"
    PREFIX = "dlq-"


@dataclasses.dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that cannot be applied, and why (`error.code` is stable for operators)."""

    record: Record
    error: InvalidMessage


class RawPublisher(Protocol):
    async def send_raw(self, topic: str, value: bytes | None, key: bytes | None, headers: Headers) -> None: ...


def letter_id(group: str, record: Record) -> str:
    """The same for every attempt to letter the record at this position."""
    return derived_id(f"{group}/{record.topic}/{record.partition}/{record.offset}", "dead-letter")


def dead_letter_headers(letter: DeadLetter, *, service: str, group: str) -> Headers:
    record = letter.record
    return [
        *record.headers,
        (Header.ID, letter_id(group, record).encode()),
        (Header.CODE, letter.error.code.encode()),
        (Header.REASON, letter.error.reason.encode()),
        (Header.SOURCE_TOPIC, record.topic.encode()),
        (Header.SOURCE_PARTITION, str(record.partition).encode()),
        (Header.SOURCE_OFFSET, str(record.offset).encode()),
        (Header.SERVICE, service.encode()),
        (Header.GROUP, group.encode()),
        (Header.FAILED_AT, datetime.now(UTC).isoformat().encode()),
    ]


class Ledger(Protocol):
    """Which source positions have been claimed for a dead letter, and which letters were sent."""

    async def claim(self, rows: dict[str, Document]) -> set[str]:
        """Claim each id (a letter id) with its row; returns the ids whose letter was sent before."""
        ...

    async def mark_sent(self, ids: Sequence[str]) -> None: ...


class MongoLedger:
    """The ledger as a collection of the service's database, one document per letter id."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def claim(self, rows: dict[str, Document]) -> set[str]:
        try:
            documents = [{"_id": key, "sent": False, **row} for key, row in rows.items()]
            await self.collection.insert_many(documents, ordered=False)
        except BulkWriteError as exc:
            if any(error["code"] != _DUPLICATE_KEY for error in exc.details.get("writeErrors", [])):
                raise
            # Filter on _id alone: FerretDB v1 pushes only that down and would scan for anything more.
            claimed = self.collection.find({"_id": {"$in": list(rows)}})
            return {row["_id"] async for row in claimed if row.get("sent")}
        return set()

    async def mark_sent(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), FERRETDB_WRITES_PER_COMMAND):
            chunk = list(ids[start : start + FERRETDB_WRITES_PER_COMMAND])
            await self.collection.update_many({"_id": {"$in": chunk}}, {"$set": {"sent": True}})


class MemoryLedger:
    """The ledger in memory, for in-memory broker tests: at most once per process only."""

    def __init__(self) -> None:
        self.rows: dict[str, Document] = {}

    async def claim(self, rows: dict[str, Document]) -> set[str]:
        for key, row in rows.items():
            self.rows.setdefault(key, {"sent": False, **row})
        return {key for key in rows if self.rows[key]["sent"]}

    async def mark_sent(self, ids: Sequence[str]) -> None:
        for key in ids:
            self.rows[key]["sent"] = True


class DeadLetters:
    """Publishes dead letters of one service, each source position at most once."""

    def __init__(self, publisher: RawPublisher, topic: str, ledger: Ledger, *, service: str) -> None:
        self.publisher = publisher
        self.topic = topic
        self.ledger = ledger
        self.service = service

    async def send(self, letters: Sequence[DeadLetter], *, group: str) -> list[DeadLetter]:
        """Publish the letters not sent before; returns those published now. Raises if a publish
        failed (after marking the others), so the caller retries and only the rest go out."""
        by_id = {letter_id(group, letter.record): letter for letter in letters}
        now = datetime.now(UTC)
        rows = {
            key: {"group": group, "code": letter.error.code, "at": now, **_where(letter.record)}
            for key, letter in by_id.items()
        }
        sent_before = await self.ledger.claim(rows)
        for key in sent_before:
            log.info("already dead-lettered", **_where(by_id[key].record))
        pending = {key: letter for key, letter in by_id.items() if key not in sent_before}
        results = await asyncio.gather(
            *(self._publish(letter, group) for letter in pending.values()), return_exceptions=True
        )
        published = [key for key, result in zip(pending, results, strict=True) if result is None]
        await self.ledger.mark_sent(published)
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors:
            raise errors[0]
        return [pending[key] for key in published]

    async def _publish(self, letter: DeadLetter, group: str) -> None:
        record = letter.record
        with bound(source_topic=record.topic, source_offset=str(record.offset)):
            log.warning("dead-lettered", code=letter.error.code, reason=letter.error.reason)
        headers = dead_letter_headers(letter, service=self.service, group=group)
        await self.publisher.send_raw(self.topic, record.value, record.key, headers)


def _where(record: Record) -> dict[str, Any]:
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}
