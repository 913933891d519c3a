"""The command side's store: one document per deployment holding its state AND its outbox.

FerretDB v1 has no transactions, so everything a decision produces goes into ONE document, in ONE
write guarded by the revision that was read (an insert for a new document, so two first writers
collide on `_id`; every write raises `_rev` by exactly one, which the revision trigger of FerretDB
over PostgreSQL checks, see shared.storage.revisions):

    _id            the deployment id
    _rev           revision, +1 on every write
    state          the decider's state, with the decided events already folded in
    outbox         envelopes decided but not yet acknowledged by Kafka, in decision order
    has_pending    whether the outbox holds anything: a top-level boolean, so the sweeper's query is
                   one scalar equality (still a scan on FerretDB, hence a rare sweep; an index on MongoDB)
    pending_since  when the outbox became non-empty
    commands       the outcomes of the last RECENT_COMMANDS commands (ids, so a re-sent command runs once)
    _applied       the highest offset applied per source partition (a redelivered record is skipped,
                   however far back)

Command statuses (what `GET /commands/{id}` answers) live in a second collection that only ever
gets cheap inserts on the hot path (an insert is not a scan on FerretDB; an update is): the command
id, its deployment and `accepted`. The outcome itself is read from the deployment's document; only
an outcome pushed out of its `commands` list is copied into the status collection.

FerretDB's SQLite backend answers a write that meets another writer's lock with "database is locked
(SQLITE_BUSY)": that is raised as DatabaseBusy, which the consumer path retries like any transient error.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from shared.contract.envelope import Envelope
from shared.storage.backend import backend_of
from shared.storage.mongo import Document
from shared.storage.revisions import StaleProjection, lost_revision_race, positions_field, positions_of

S = TypeVar("S", bound=BaseModel)

RECENT_COMMANDS = 100
"""Command outcomes kept in each deployment's document. Older ones move to the status collection,
which the handler consults for a deployment whose list is full; so a command id runs once within the
status horizon (`CommandSettings.status_horizon_days`), and a redelivered record never runs again
(offsets are kept exactly)."""
_DUPLICATE_KEY = 11000


class RevisionConflict(StaleProjection):
    """Another writer changed the deployment's document since it was read: read again and redo
    (a StaleProjection, so the consumer path retries it as transient)."""


class DatabaseBusy(StaleProjection):
    """FerretDB/SQLite refused a write because another writer held the lock: retry (transient)."""


@contextlib.contextmanager
def _busy_is_transient() -> Iterator[None]:
    try:
        yield
    except OperationFailure as error:
        if "SQLITE_BUSY" in str(error) or "database is locked" in str(error):
            raise DatabaseBusy(str(error)) from error
        raise


class _LostRace(Exception):
    pass


@contextlib.contextmanager
def _race_is_conflict() -> Iterator[None]:
    """A guarded write that lost to another writer: on MongoDB it matches nothing; on FerretDB over
    PostgreSQL the revision trigger refuses it (shared.storage.ferretdb_postgres). Both mean: re-read."""
    try:
        yield
    except OperationFailure as error:
        if lost_revision_race(error):
            raise _LostRace from error
        raise


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
    issued_by: str | None = None
    decided_at: datetime | None = None


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
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def exclusive(self, deployment_id: str) -> AsyncIterator[None]:
        """Hold while reading and writing one deployment's document, so this process never races
        itself over it (handler and sweeper). Needed because FerretDB v1 checks `{_id, _rev}` in Go
        between its read and its write: two concurrent guarded writes can both succeed there, the later
        one silently dropping the other (measured on SQLite: 16 of 30 trials of 4 writers). Between
        processes (a rebalance) the revision trigger of FerretDB over PostgreSQL closes that gap."""
        lock, users = self._locks.get(deployment_id) or (asyncio.Lock(), 0)
        self._locks[deployment_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[deployment_id]
            if users == 1:
                del self._locks[deployment_id]
            else:
                self._locks[deployment_id] = (lock, users - 1)

    async def load(self, deployment_id: str) -> Aggregate[S]:
        with _busy_is_transient():
            document = await self.collection.find_one({"_id": deployment_id})
        if document is None:
            return Aggregate(deployment_id, self.initial(deployment_id))
        return self._aggregate(document)

    async def save(self, aggregate: Aggregate[S], *, read_revision: int) -> bool:
        """Write the whole document if nobody wrote it since `read_revision` was read; False if someone did."""
        document = self._document(aggregate)
        try:
            with _busy_is_transient(), _race_is_conflict():
                if read_revision == 0:
                    await self.collection.insert_one(document)
                    return True
                guard = {"_id": aggregate.deployment_id, "_rev": read_revision}
                result = await self.collection.replace_one(guard, document)
        except (DuplicateKeyError, _LostRace):
            return False
        return result.matched_count == 1

    async def clear_outbox(self, deployment_id: str, revision: int) -> bool:
        """Empty the outbox that was written at `revision` (and has just been published). False when the
        document moved on meanwhile: then its outbox still holds these events, and the next flush
        publishes them again under the same ids."""
        try:
            with _busy_is_transient(), _race_is_conflict():
                result = await self.collection.update_one(
                    {"_id": deployment_id, "_rev": revision},
                    {"$set": {"outbox": [], "has_pending": False, "pending_since": None}, "$inc": {"_rev": 1}},
                )
        except _LostRace:
            return False
        return result.matched_count == 1

    async def with_pending(self, limit: int) -> list[Aggregate[S]]:
        with _busy_is_transient():
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
            "_applied": positions_field(dict(aggregate.positions)),
        }

    def _aggregate(self, document: Document) -> Aggregate[S]:
        return Aggregate(
            deployment_id=document["_id"],
            state=self.state_type.model_validate(document["state"]),
            revision=document["_rev"],
            outbox=tuple(Envelope.model_validate(item) for item in document.get("outbox") or ()),
            pending_since=document.get("pending_since"),
            recent=tuple(_outcome(item) for item in document.get("commands") or ()),
            positions=positions_of(document),
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
        """For pruning by age (MongoDB; FerretDB could not use it, see shared.storage.backend)."""
        backend = await backend_of(self.collection.database.client)
        await backend.ensure_indexes(self.collection, [IndexModel([("accepted_at", ASCENDING)])])

    async def accept(self, record: CommandRecord) -> CommandRecord | None:
        """Store a newly accepted command; returns the record already stored under its id, if any."""
        try:
            with _busy_is_transient():
                await self.collection.insert_one(_record_document(record))
        except DuplicateKeyError:
            return await self.get(record.command_id)
        return None

    async def remember(self, outcomes: Sequence[Outcome], now: datetime | None = None) -> None:
        """Make decided commands findable by id (those that came by Kafka have no record yet). Inserts
        only: an id already there (accepted over HTTP) is left as it is."""
        if not outcomes:
            return
        at = now or datetime.now(UTC)
        rows = {
            o.command_id: {
                "_id": o.command_id,
                "command_type": o.command_type,
                "deployment_id": o.deployment_id,
                "issued_by": o.issued_by,
            }
            for o in outcomes
        }
        try:
            with _busy_is_transient():
                await self.collection.insert_many(
                    [{**row, "status": "accepted", "event_ids": [], "accepted_at": at} for row in rows.values()],
                    ordered=False,
                )
        except BulkWriteError as error:
            if any(e.get("code") != _DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
                raise

    async def record(self, outcomes: Sequence[Outcome], now: datetime | None = None) -> None:
        """Store how commands ended (those whose outcome leaves the deployment's document).
        Idempotent: an outcome is the same every time it is recorded."""
        decided_at = now or datetime.now(UTC)
        await asyncio.gather(*(self._record(outcome, decided_at) for outcome in outcomes))

    async def _record(self, outcome: Outcome, decided_at: datetime) -> None:
        decided: dict[str, Any] = {
            "status": outcome.status,
            "event_ids": list(outcome.event_ids),
            "code": outcome.code,
            "reason": outcome.reason,
            "decided_at": outcome.decided_at or decided_at,
        }
        first_seen = {
            "command_type": outcome.command_type,
            "deployment_id": outcome.deployment_id,
            "issued_by": outcome.issued_by,
            "accepted_at": outcome.decided_at or decided_at,
        }
        update = {"$set": decided, "$setOnInsert": first_seen}
        with _busy_is_transient():
            try:
                await self.collection.update_one({"_id": outcome.command_id}, update, upsert=True)
            except DuplicateKeyError:
                # Inserted by someone else between the match and the insert: now a plain update.
                await self.collection.update_one({"_id": outcome.command_id}, update)

    async def decided(self, command_ids: Sequence[str]) -> dict[str, Outcome]:
        """The outcomes recorded here (those that left their deployment's document), by command id."""
        if not command_ids:
            return {}
        query = {"_id": {"$in": list(command_ids)}, "status": {"$in": ["completed", "rejected"]}}
        with _busy_is_transient():
            found = [document async for document in self.collection.find(query)]
        return {
            d["_id"]: Outcome(
                command_id=d["_id"],
                command_type=d["command_type"],
                deployment_id=d["deployment_id"],
                status=d["status"],
                event_ids=tuple(d.get("event_ids") or ()),
                code=d.get("code"),
                reason=d.get("reason"),
                issued_by=d.get("issued_by"),
                decided_at=d.get("decided_at"),
            )
            for d in found
        }

    async def get(self, command_id: str) -> CommandRecord | None:
        with _busy_is_transient():
            document = await self.collection.find_one({"_id": command_id})
        return CommandRecord.model_validate({**document, "command_id": document["_id"]}) if document else None

    async def prune(self, older_than: datetime) -> int:
        result = await self.collection.delete_many({"accepted_at": {"$lt": older_than}})
        return result.deleted_count


def _record_document(record: CommandRecord) -> Document:
    document = record.model_dump(mode="python", exclude={"command_id"})
    document["event_ids"] = list(record.event_ids)
    return {"_id": record.command_id, **document}
