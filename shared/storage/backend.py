"""The one module that knows which database the services talk to, and what that changes.

The same code runs on MongoDB and on FerretDB v1 (the Docker-less default). FerretDB speaks the
same wire protocol but executes queries in Go: only top-level scalar equality reaches its storage
(with a GIN index on `_id`, a point read or a guarded write by `_id` is an index lookup), while
`$in`, ranges, regex, `$and`/`$or`, dotted paths and sorts fetch the whole collection. Every way
the storage layer behaves differently because of that is a named decision of `Backend`, chosen
once from `buildInfo` (FerretDB adds `ferretdbVersion`) and logged once, as `storage backend`,
with each decision.

No decision switches a guarantee off. On every backend: each document write is guarded by its
revision (`_rev`), new documents are inserted (never upserted, so a race on a new `_id` is a plain
duplicate key), every applied position and claimed event id is recorded, and the summary counters
stay exact (shared.storage.counters). One guarantee depends on the database itself: FerretDB v1
checks an update's filter in Go and then updates by `_id` alone, so two writers of one document at
the same moment would both pass the revision guard. On PostgreSQL a trigger makes it atomic
(shared.storage.ferretdb_postgres); at start a probe write tells whether it is there, and its
absence (always so on SQLite) is logged as a warning, never ignored.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
import weakref
from collections.abc import Iterable, Iterator, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from shared.service.logging import get_logger
from shared.storage.ferretdb_postgres import CONFLICT_MESSAGE
from shared.storage.mongo import Document

log = get_logger(__name__)

T = TypeVar("T")
DUPLICATE_KEY = 11000

FERRETDB_WRITES_PER_COMMAND = 25
"""FerretDB v1 holds one PostgreSQL connection per update statement until the whole command ends, and
hangs when its pool runs dry (a command of 50 hung with the default pool of 50; infra/ferretdb raises the
pool to 256, shared by concurrent commands). Commands of 25 stay well clear. Defined only here."""
FERRETDB_CONCURRENT_COMMANDS = 4
"""FerretDB runs the statements of one command one after another; a few commands at once keep both
PostgreSQL and FerretDB busy (4 x 25 connections, well inside the pool of 256)."""


class Kind(StrEnum):
    MONGODB = "mongodb"
    FERRETDB = "ferretdb"


class ReadMany(StrEnum):
    IN_QUERY = "one $in query"
    POINT_READS = "concurrent point reads by _id"


@dataclasses.dataclass(frozen=True)
class Backend:
    """What the storage layer does differently on this database; see `decisions` for why."""

    kind: Kind
    version: str
    writes_per_command: int | None
    """Bulk writes are sent in commands of at most this many operations (None: one command)."""
    read_many: ReadMany
    """How a batch's documents (or a caller's counter documents) are loaded by `_id`."""
    point_read_concurrency: int
    concurrent_commands: int
    """How many of one bulk write's commands are in flight at once."""
    secondary_indexes: bool
    """Whether `ensure_indexes` creates the indexes a store asks for."""
    atomic_revision_guard: bool = True
    """Whether two writers of one document at the same revision cannot both succeed."""

    @classmethod
    def for_build_info(cls, info: Document, atomic_revision_guard: bool = True) -> Backend:
        if "ferretdbVersion" in info:
            return cls(
                kind=Kind.FERRETDB,
                version=str(info["ferretdbVersion"]),
                writes_per_command=FERRETDB_WRITES_PER_COMMAND,
                read_many=ReadMany.POINT_READS,
                point_read_concurrency=16,
                concurrent_commands=FERRETDB_CONCURRENT_COMMANDS,
                secondary_indexes=False,
                atomic_revision_guard=atomic_revision_guard,
            )
        return cls(
            kind=Kind.MONGODB,
            version=str(info.get("version", "unknown")),
            writes_per_command=None,
            read_many=ReadMany.IN_QUERY,
            point_read_concurrency=16,
            concurrent_commands=1,
            secondary_indexes=True,
        )

    def decisions(self) -> dict[str, str]:
        """Each decision with its reason, as logged at start."""
        ferret = self.kind is Kind.FERRETDB
        return {
            "write_chunk": (
                f"{self.writes_per_command} operations per command, {self.concurrent_commands} commands at once: "
                "FerretDB v1 hangs on an update command matching ~100 documents and runs a command's "
                "statements one by one"
                if ferret
                else "one command per bulk write"
            ),
            "batch_loads": (
                f"{self.read_many} ({self.point_read_concurrency} at a time): FerretDB v1 fetches the whole "
                "collection for $in, and serves a point read by _id from the GIN index"
                if ferret
                else f"{self.read_many}: an index lookup on MongoDB"
            ),
            "secondary_indexes": (
                "not created: FerretDB v1 makes btree expression indexes that none of its pushed-down "
                "(@>) lookups can use, so they would only slow down writes"
                if ferret
                else "created when missing"
            ),
            "index_creation": (
                "only missing indexes are sent: FerretDB v1 drops the connection when asked to create one that exists"
            ),
            "new_documents": (
                "inserted, never upserted: a race on a new _id is a duplicate key (11000); FerretDB v1 "
                "answers a duplicate key inside a bulk of updates without nModified (pymongo KeyError)"
            ),
            "upsert_race": (
                "an upsert that loses a race on a new _id is retried; on FerretDB v1 that race surfaces as "
                "KeyError('nModified')"
                if ferret
                else "an upsert that loses a race on a new _id is retried"
            ),
            "ledger_expiry": "claims older than the dedupe horizon are pruned periodically (FerretDB v1 has no TTL)",
            "revision_guard": self._revision_guard(),
        }

    def _revision_guard(self) -> str:
        if self.kind is Kind.MONGODB:
            return "on, atomic: the server checks {_id, _rev} and writes in one step"
        if self.atomic_revision_guard:
            return (
                "on, atomic: FerretDB v1 checks {_id, _rev} in Go before an unconditional UPDATE; the "
                "PostgreSQL trigger lifecycle_revision_guard fails any write that does not raise _rev by one"
            )
        return (
            "on, NOT atomic: FerretDB v1 checks {_id, _rev} in Go before an unconditional UPDATE, so two "
            "writers of one document at the same moment can both pass and the first write is lost; install "
            "shared.storage.ferretdb_postgres in its PostgreSQL (SQLite has no remedy)"
        )

    def log_decisions(self) -> None:
        report = log.info if self.atomic_revision_guard else log.warning
        report("storage backend", backend=self.kind.value, version=self.version, decisions=self.decisions())

    def chunks(self, operations: Sequence[T]) -> Iterator[Sequence[T]]:
        size = self.writes_per_command or max(1, len(operations))
        for start in range(0, len(operations), size):
            yield operations[start : start + size]

    async def find_by_ids(
        self, collection: AsyncCollection[Document], ids: Iterable[Any], projection: Document | None = None
    ) -> dict[Any, Document]:
        """The documents with these `_id`s that exist, by `_id`."""
        unique = list(dict.fromkeys(ids))
        if not unique:
            return {}
        if self.read_many is ReadMany.IN_QUERY:
            cursor = collection.find({"_id": {"$in": unique}}, projection)
            return {document["_id"]: document async for document in cursor}
        gate = asyncio.Semaphore(self.point_read_concurrency)

        async def one(key: Any) -> Document | None:
            async with gate:
                return await collection.find_one({"_id": key}, projection)

        found = await asyncio.gather(*(one(key) for key in unique))
        return {document["_id"]: document for document in found if document is not None}

    async def ensure_indexes(self, collection: AsyncCollection[Document], indexes: Sequence[IndexModel]) -> None:
        """Create the indexes that do not exist yet (none on FerretDB; see `decisions`)."""
        if not self.secondary_indexes or not indexes:
            return
        existing = {index["name"] async for index in await collection.list_indexes()}
        missing = [index for index in indexes if index.document["name"] not in existing]
        if missing:
            await collection.create_indexes(missing)

    def lost_upsert_race(self, error: BaseException) -> bool:
        """Whether an upsert failed only because another writer created the same `_id` first."""
        if isinstance(error, DuplicateKeyError):
            return True
        if isinstance(error, BulkWriteError):
            errors = error.details.get("writeErrors", [])
            return bool(errors) and all(e.get("code") == DUPLICATE_KEY for e in errors)
        return self.kind is Kind.FERRETDB and isinstance(error, KeyError) and error.args == ("nModified",)


_detected: weakref.WeakKeyDictionary[AsyncMongoClient[Document], Backend] = weakref.WeakKeyDictionary()


PROBE_DATABASE = "lifecycle_probe"


async def backend_of(client: AsyncMongoClient[Document]) -> Backend:
    """The backend behind `client`, asked once per client; its decisions are logged then."""
    found = _detected.get(client)
    if found is None:
        info = await client.admin.command("buildInfo")
        atomic = await _guard_is_atomic(client) if "ferretdbVersion" in info else True
        detected = Backend.for_build_info(info, atomic_revision_guard=atomic)
        found = _detected.setdefault(client, detected)
        if found is detected:
            found.log_decisions()
    return found


async def _guard_is_atomic(client: AsyncMongoClient[Document]) -> bool:
    """Write a revision that does not follow the stored one, by `_id` alone (so FerretDB's own filter
    lets it through): only the PostgreSQL trigger refuses it."""
    probe = client[PROBE_DATABASE]["revision_guard"]
    key = uuid.uuid4().hex
    await probe.insert_one({"_id": key, "_rev": 1})
    try:
        # A changed body: FerretDB skips writing a replacement equal to the stored document.
        await probe.replace_one({"_id": key}, {"_id": key, "_rev": 1, "stale": True})
    except OperationFailure as exc:
        if CONFLICT_MESSAGE not in str(exc):
            raise
        return True
    finally:
        await probe.delete_one({"_id": key})
    return False
