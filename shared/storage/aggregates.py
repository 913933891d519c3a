"""The command side's store: one document per deployment holding its state AND its outbox.

FerretDB v1 has no transactions, so everything a decision produces goes into ONE document, in ONE
write guarded by the revision that was read (an insert for a new document, so two first writers
collide on `_id`):

    _id            the deployment id
    _rev           revision, +1 on every write
    state          the decider's state, with the decided events already folded in
    outbox         envelopes decided but not yet acknowledged by Kafka, in decision order
    has_pending    whether the outbox holds anything: a top-level boolean, so the sweeper's query
                   is one equality (FerretDB scans on any filter but `_id`; this keeps the scan cheap)
    pending_since  when the outbox became non-empty
    commands       the outcomes of the last RECENT_COMMANDS commands (ids, so a re-sent command runs once)
    _applied       the highest offset applied per source partition (a redelivered record is skipped,
                   however far back)

Command statuses (what `GET /commands/{id}` answers) live in a second collection, written after
the events are published; the outcome in the deployment document is the truth it is repaired from.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.contract.envelope import Envelope
from shared.storage.mongo import Document, ensure_indexes
from shared.storage.projection import StaleProjection

S = TypeVar("S", bound=BaseModel)

RECENT_COMMANDS = 100
"""Command outcomes kept per deployment. A command re-sent after this many newer commands for the
same deployment would run again; a redelivered one never does (offsets are kept exactly)."""


class RevisionConflict(StaleProjection):
    """Another writer changed the deployment's document since it was read: read again and redo
    (a StaleProjection, so the consumer path retries it as transient)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """How one command ended: its events (completed) or its rejection (a CommandRejected event)."""

    command_id: str
    command_type: str
    deployment_id: str
    status: Literal["completed", "rejected"]
    event_ids: tuple[str, ...]
    code: str | None = None
    reason: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Aggregate(Generic[S]):
    """One deployment's document as read: `revision` 0 means it has never been written."""

    deployment_id: str
    state: S
    revision: int = 0
    outbox: tuple[Envelope, ...] = ()
    pending_since: datetime | None = None
    recent: tuple[Outcome, ...] = ()
    positions: Mapping[str, int] = dataclasses.field(default_factory=dict)

    def outcome(self, command_id: str) -> Outcome | None:
        return next((o for o in self.recent if o.command_id == command_id), None)


class AggregateStore(Generic[S]):
    def __init__(
        self,
        collection: AsyncCollection[Document],
        state_type: type[S],
        initial: Callable[[str], S],
        recent_commands: int = RECENT_COMMANDS,
    ) -> None:
        self.collection = collection
        self.state_type = state_type
        self.initial = initial
        self.recent_commands = recent_commands

    async def load(self, deployment_id: str) -> Aggregate[S]:
        document = await self.collection.find_one({"_id": deployment_id})
        if document is None:
            return Aggregate(deployment_id, self.initial(deployment_id))
        return self._aggregate(document)

    async def save(self, aggregate: Aggregate[S], *, read_revision: int) -> bool:
        """Write the whole document if nobody wrote it since `read_revision` was read; False if someone did."""
        document = self._document(aggregate)
        if read_revision == 0:
            try:
                await self.collection.insert_one(document)
            except DuplicateKeyError:
                return False
            return True
        result = await self.collection.replace_one({"_id": aggregate.deployment_id, "_rev": read_revision}, document)
        return result.matched_count == 1

    async def clear_outbox(self, deployment_id: str, revision: int) -> bool:
        """Empty the outbox that was written at `revision` (and has just been published). False when the
        document moved on meanwhile: then its outbox still holds these events, and the next flush
        publishes them again under the same ids."""
        result = await self.collection.update_one(
            {"_id": deployment_id, "_rev": revision},
            {"$set": {"outbox": [], "has_pending": False, "pending_since": None}, "$inc": {"_rev": 1}},
        )
        return result.matched_count == 1

    async def with_pending(self, limit: int) -> list[Aggregate[S]]:
        cursor = self.collection.find({"has_pending": True}).limit(limit)
        return [self._aggregate(document) async for document in cursor]

    def _document(self, aggregate: Aggregate[S]) -> Document:
        recent = aggregate.recent[-self.recent_commands :]
        return {
            "_id": aggregate.deployment_id,
            "_rev": aggregate.revision,
            "state": aggregate.state.model_dump(mode="python"),
            # JSON mode: the envelope's time keeps its microseconds (BSON dates keep milliseconds).
            "outbox": [envelope.model_dump(mode="json", exclude_none=True) for envelope in aggregate.outbox],
            "has_pending": bool(aggregate.outbox),
            "pending_since": aggregate.pending_since if aggregate.outbox else None,
            "commands": [dataclasses.asdict(outcome) for outcome in recent],
            # Topic names contain dots, which cannot be document keys.
            "_applied": [{"source": key, "offset": offset} for key, offset in sorted(aggregate.positions.items())],
        }

    def _aggregate(self, document: Document) -> Aggregate[S]:
        return Aggregate(
            deployment_id=document["_id"],
            state=self.state_type.model_validate(document["state"]),
            revision=document["_rev"],
            outbox=tuple(Envelope.model_validate(item) for item in document.get("outbox") or ()),
            pending_since=document.get("pending_since"),
            recent=tuple(_outcome(item) for item in document.get("commands") or ()),
            positions={item["source"]: item["offset"] for item in document.get("_applied") or ()},
        )


def _outcome(item: Document) -> Outcome:
    return Outcome(**{**item, "event_ids": tuple(item["event_ids"])})


CommandStatus = Literal["accepted", "completed", "rejected"]


class CommandRecord(BaseModel):
    """What is known about one command id: who sent what, and how it ended."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    command_id: str
    command_type: str
    deployment_id: str
    status: CommandStatus
    issued_by: str | None = None
    fingerprint: str | None = None
    """A digest of the command as first accepted over HTTP: the same id with another body is refused."""
    event_ids: tuple[str, ...] = ()
    code: str | None = None
    reason: str | None = None
    accepted_at: datetime
    decided_at: datetime | None = None


class CommandStatuses:
    """Command id -> CommandRecord: written when a command is accepted and again when it is decided.

    On FerretDB every query scans, so records are pruned after a horizon (`prune`)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def create_indexes(self) -> None:
        await ensure_indexes(self.collection, [IndexModel([("accepted_at", ASCENDING)])])

    async def accept(self, record: CommandRecord) -> CommandRecord | None:
        """Store a newly accepted command; returns the record already stored under its id, if any."""
        try:
            await self.collection.insert_one(_record_document(record))
        except DuplicateKeyError:
            return await self.get(record.command_id)
        return None

    async def record(self, outcomes: Sequence[Outcome], now: datetime | None = None) -> None:
        """Store how commands ended. Idempotent: an outcome is the same every time it is recorded."""
        decided_at = now or datetime.now(UTC)
        await asyncio.gather(*(self._record(outcome, decided_at) for outcome in outcomes))

    async def _record(self, outcome: Outcome, decided_at: datetime) -> None:
        decided: dict[str, Any] = {
            "status": outcome.status,
            "event_ids": list(outcome.event_ids),
            "code": outcome.code,
            "reason": outcome.reason,
            "decided_at": decided_at,
        }
        first_seen = {
            "command_type": outcome.command_type,
            "deployment_id": outcome.deployment_id,
            "accepted_at": decided_at,
        }
        update = {"$set": decided, "$setOnInsert": first_seen}
        try:
            await self.collection.update_one({"_id": outcome.command_id}, update, upsert=True)
        except DuplicateKeyError:
            # Accepted over HTTP between our read and insert: now it exists, so this is a plain update.
            await self.collection.update_one({"_id": outcome.command_id}, update)

    async def get(self, command_id: str) -> CommandRecord | None:
        document = await self.collection.find_one({"_id": command_id})
        return CommandRecord.model_validate({**document, "command_id": document["_id"]}) if document else None

    async def prune(self, older_than: datetime) -> int:
        result = await self.collection.delete_many({"accepted_at": {"$lt": older_than}})
        return result.deleted_count


def _record_document(record: CommandRecord) -> Document:
    document = record.model_dump(mode="python", exclude={"command_id"})
    document["event_ids"] = list(record.event_ids)
    return {"_id": record.command_id, **document}
