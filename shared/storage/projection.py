"""Applies messages to a per-subject projection effectively once, with one atomic write per document.

Two ways an event can come back, two guards:
- Redelivery after a crash (same partition, same offset): each document records the highest offset
  applied per source partition, in the same single-document write as the state. Exact, forever.
- An upstream that publishes the same event again (same id, new offset): before applying, each event
  id is claimed in a ledger collection by the delivery (partition and offset) that carries it. A
  second delivery of the id finds the claim of another position and is skipped; a redelivery of
  the claiming position goes through and the document's offsets decide. Claims are kept for the
  dedupe horizon (FerretDB has no TTL indexes, so `prune` trims them).

Documents carry a revision. On MongoDB each write is guarded by it, so a consumer that lost its
partition in a rebalance cannot overwrite newer state. FerretDB v1 only pushes a filter on `_id`
alone down to SQLite and scans the whole collection for anything else, so there the guard is off
and one instance per partition is assumed (true unless a rebalance races a slow batch).
A batch costs one ledger insert, one read of its documents and one bulk write (in chunks of 50).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pymongo import ASCENDING, IndexModel, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from shared.domain.recorded import Recorded
from shared.messaging.consumer import Inbound
from shared.storage.mongo import Document, ensure_indexes, is_ferretdb

S = TypeVar("S", bound=BaseModel)
Evolve = Callable[[S | None, Recorded[Any]], S]
_DUPLICATE_KEY = 11000
# FerretDB v1 holds a SQLite connection per matched update until the command ends and hangs from
# about 100 of them; commands of 50 stay clear of that (writes are unordered and idempotent).
_WRITES_PER_COMMAND = 50


class StaleProjection(RuntimeError):
    """Another writer changed a document since it was read; the batch must be re-read and retried."""


class ProjectionStore(Generic[S]):
    """A collection of one document per subject (the state's fields plus `_applied` and `_rev`),
    and its ledger of claimed event ids."""

    def __init__(self, collection: AsyncCollection[Document], model: type[S]) -> None:
        self.collection = collection
        self.ledger: AsyncCollection[Document] = collection.database[f"{collection.name}_applied_events"]
        self.model = model
        self.guard_revisions = True

    async def prepare(self) -> None:
        await ensure_indexes(self.ledger, [IndexModel([("time", ASCENDING)])])
        self.guard_revisions = not await is_ferretdb(self.collection.database.client)

    async def apply(self, batch: Sequence[Inbound], evolve: Evolve[S]) -> int:
        """Fold the batch into the projection; returns how many messages were new."""
        by_subject: dict[str, list[Inbound]] = defaultdict(list)
        for inbound in batch:
            by_subject[inbound.envelope.subject].append(inbound)
        claims = await self._claim(batch)
        current = await self._load(list(by_subject))

        writes: list[ReplaceOne[Document]] = []
        applied = 0
        for subject, items in by_subject.items():
            document = current.get(subject)
            state = self.model.model_validate(document) if document else None
            positions = _positions(document)
            changed = False
            for inbound in items:
                source, offset = _source(inbound), inbound.position.offset
                if claims[inbound.envelope.id] != (source, offset):
                    continue  # the same event was delivered before at another position
                if positions.get(source, -1) >= offset:
                    continue  # redelivered after a crash: already in this document
                state = evolve(state, inbound.recorded)
                positions[source] = offset
                changed = True
                applied += 1
            if changed and state is not None:
                writes.append(self._replace(subject, state, positions, document))
        for start in range(0, len(writes), _WRITES_PER_COMMAND):
            chunk = writes[start : start + _WRITES_PER_COMMAND]
            result = await self.collection.bulk_write(chunk, ordered=False)
            if result.matched_count + result.upserted_count != len(chunk):
                raise StaleProjection(f"{len(chunk) - result.matched_count} documents changed underneath")
        return applied

    async def prune(self, older_than: datetime) -> int:
        """Forget claims of events older than the dedupe horizon."""
        result = await self.ledger.delete_many({"time": {"$lt": older_than}})
        return result.deleted_count

    async def get(self, subject: str) -> S | None:
        document = await self.collection.find_one({"_id": subject})
        return self.model.model_validate(document) if document else None

    async def _claim(self, batch: Sequence[Inbound]) -> dict[str, tuple[str, int]]:
        """Event id -> the position that owns it: this batch's for new ids, the earlier one otherwise."""
        rows: dict[str, Document] = {}
        for item in batch:
            e = item.envelope
            rows.setdefault(
                e.id,
                {
                    "_id": e.id,
                    "source": _source(item),
                    "offset": item.position.offset,
                    "subject": e.subject,
                    "time": e.time,
                },
            )
        try:
            await self.ledger.insert_many(list(rows.values()), ordered=False)
        except BulkWriteError as exc:
            if any(error["code"] != _DUPLICATE_KEY for error in exc.details.get("writeErrors", [])):
                raise
            # Rare (redeliveries and re-publications): read back who owns the ids already claimed.
            async for row in self.ledger.find({"_id": {"$in": list(rows)}}):
                rows[row["_id"]] = row
        return {event_id: (row["source"], row["offset"]) for event_id, row in rows.items()}

    async def _load(self, subjects: list[str]) -> dict[str, Document]:
        # One query for the whole batch: an index lookup on MongoDB, a single scan on FerretDB (which
        # scans for point reads too, so one $in beats one read per document).
        return {document["_id"]: document async for document in self.collection.find({"_id": {"$in": subjects}})}

    def _replace(self, subject: str, state: S, positions: dict[str, int], previous: Document | None) -> ReplaceOne[Any]:
        revision = previous["_rev"] if previous else 0
        applied = [{"source": key, "offset": offset} for key, offset in sorted(positions.items())]
        document = {**state.model_dump(mode="python"), "_id": subject, "_applied": {"positions": applied}}
        document["_rev"] = revision + 1
        guard: Document = {"_id": subject}
        if self.guard_revisions:
            # A new document is guarded by "no _rev yet": if another writer inserted it first, the
            # upsert collides on _id and the whole batch is retried from a fresh read.
            guard["_rev"] = revision if previous else {"$exists": False}
        return ReplaceOne(guard, document, upsert=True)


def _positions(document: Document | None) -> dict[str, int]:
    # Topic names contain dots, which cannot be document keys, so positions are stored as a list.
    applied = (document or {}).get("_applied") or {}
    return {item["source"]: item["offset"] for item in applied.get("positions", [])}


def _source(inbound: Inbound) -> str:
    return f"{inbound.position.topic}#{inbound.position.partition}"
