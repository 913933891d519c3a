"""Single-document writes guarded by revision, and the source positions documents record.

Every document the stores write carries `_rev` (+1 per write). A write either replaces exactly the
revision that was read, or inserts a document that did not exist; if another writer got there
first, that document is not written and the caller must read again and redo its work. This is what
keeps a consumer that lost its partitions in a rebalance from overwriting newer state, on every
backend (with the GIN index on `_id`, FerretDB serves the `{_id, _rev}` filter from the index).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pymongo import InsertOne, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, OperationFailure

from shared.storage.backend import DUPLICATE_KEY, Backend
from shared.storage.ferretdb_postgres import CONFLICT_MESSAGE
from shared.storage.mongo import Document

Positions = dict[str, int]
"""Source partition (`topic#partition`) -> the highest offset applied from it."""

GuardedWrite = InsertOne[Document] | ReplaceOne[Document]


class StaleProjection(RuntimeError):
    """Another writer changed a document since it was read; read again and retry (transient)."""


def guarded(document: Document, previous: Document | None) -> GuardedWrite:
    """Insert `document` if nothing was read, else replace the revision that was read."""
    if previous is None:
        return InsertOne(document)
    return ReplaceOne({"_id": document["_id"], "_rev": previous["_rev"]}, document)


def lost_revision_race(error: BaseException) -> bool:
    """Whether a write failed because the PostgreSQL trigger under FerretDB refused a stale revision
    (shared.storage.ferretdb_postgres): a lost race, like a guarded write that matched nothing."""
    return isinstance(error, OperationFailure) and CONFLICT_MESSAGE in str(error)


def next_revision(previous: Document | None) -> int:
    return int(previous["_rev"]) + 1 if previous else 1


async def write_guarded(collection: AsyncCollection[Document], writes: Sequence[GuardedWrite], backend: Backend) -> int:
    """Send the writes (unordered, in the backend's chunks, that many at a time); returns how many lost
    to another writer. Chunks touch distinct documents, so their order does not matter."""
    gate = asyncio.Semaphore(backend.concurrent_commands)

    async def send(chunk: Sequence[GuardedWrite]) -> int:
        async with gate:
            try:
                result = await collection.bulk_write(list(chunk), ordered=False)
                done = result.inserted_count + result.matched_count
            except BulkWriteError as exc:
                if any(error.get("code") != DUPLICATE_KEY for error in exc.details.get("writeErrors", [])):
                    raise
                done = int(exc.details.get("nInserted", 0)) + int(exc.details.get("nMatched", 0))
            except OperationFailure as exc:
                if not lost_revision_race(exc):
                    raise
                return len(chunk)  # the trigger stopped the command there: the caller re-reads anyway
            return len(chunk) - done

    return sum(await asyncio.gather(*(send(chunk) for chunk in backend.chunks(writes))))


def positions_of(document: Document | None) -> Positions:
    # Topic names contain dots, which cannot be document keys, so positions are stored as a list.
    applied = (document or {}).get("_applied") or {}
    return {item["source"]: item["offset"] for item in applied.get("positions", [])}


def positions_field(positions: Positions) -> dict[str, Any]:
    return {"positions": [{"source": key, "offset": offset} for key, offset in sorted(positions.items())]}
