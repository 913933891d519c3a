"""Applies messages to a per-subject projection effectively once, with one atomic write per document.

Two ways an event can come back, two guards:
- Redelivery after a crash (same partition, same offset): each document records the highest offset
  applied per source partition, in the same single-document write as the state. Exact, forever.
- An upstream that publishes the same event again (same id, new offset): a ledger collection of
  applied event ids, kept for `dedupe_horizon` (FerretDB has no TTL indexes, so `prune` trims it).
  The ledger is written after the state; the ids of each document's latest write are also kept in
  the document itself, so a crash between the two writes cannot open a gap.
A batch costs two reads (documents, ledger) and two bulk writes, whatever its size.
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

from shared.kafka.consumer import Inbound
from shared.mongo import Document, ensure_indexes

S = TypeVar("S", bound=BaseModel)
Evolve = Callable[[S | None, Inbound], S]
_DUPLICATE_KEY = 11000


class StaleProjection(RuntimeError):
    """Another writer changed a document since it was read; the batch must be re-read and retried."""


class AppliedLog(BaseModel):
    """What one document has applied: offsets per source partition, ids of its latest write."""

    positions: dict[str, int] = {}
    last_write_ids: list[str] = []

    def has_applied(self, inbound: Inbound) -> bool:
        last = self.positions.get(_source(inbound))
        return (last is not None and inbound.position.offset <= last) or inbound.envelope.id in self.last_write_ids

    def to_document(self) -> Document:
        # Topic names contain dots, which cannot be document keys: store the positions as a list.
        return {
            "positions": [{"source": key, "offset": offset} for key, offset in sorted(self.positions.items())],
            "last_write_ids": self.last_write_ids,
        }

    @classmethod
    def from_document(cls, document: Document | None) -> AppliedLog:
        if not document:
            return cls()
        positions = {item["source"]: item["offset"] for item in document.get("positions", [])}
        return cls(positions=positions, last_write_ids=list(document.get("last_write_ids", [])))


class ProjectionStore(Generic[S]):
    """A collection of one document per subject (the state's fields plus `_applied` and `_rev`),
    and its ledger of applied event ids."""

    def __init__(self, collection: AsyncCollection[Document], model: type[S]) -> None:
        self.collection = collection
        self.ledger: AsyncCollection[Document] = collection.database[f"{collection.name}_applied_events"]
        self.model = model

    async def create_indexes(self) -> None:
        await ensure_indexes(self.ledger, [IndexModel([("time", ASCENDING)])])

    async def apply(self, batch: Sequence[Inbound], evolve: Evolve[S]) -> int:
        """Fold the batch into the projection; returns how many messages were new."""
        by_subject: dict[str, list[Inbound]] = defaultdict(list)
        for inbound in batch:
            by_subject[inbound.envelope.subject].append(inbound)
        current = {doc["_id"]: doc async for doc in self.collection.find({"_id": {"$in": list(by_subject)}})}
        ids = list({inbound.envelope.id for inbound in batch})
        in_ledger = {row["_id"] async for row in self.ledger.find({"_id": {"$in": ids}}, {"_id": True})}

        writes: list[ReplaceOne[Document]] = []
        applied: list[Inbound] = []
        unrecorded: list[Inbound] = []  # applied before, but maybe not yet in the ledger
        for subject, items in by_subject.items():
            document = current.get(subject)
            state = self.model.model_validate(document) if document else None
            log = AppliedLog.from_document(document.get("_applied") if document else None)
            fresh: list[Inbound] = []
            for inbound in items:
                if inbound.envelope.id in in_ledger:
                    continue
                if log.has_applied(inbound) or any(f.envelope.id == inbound.envelope.id for f in fresh):
                    unrecorded.append(inbound)
                    continue
                state = evolve(state, inbound)
                log.positions[_source(inbound)] = inbound.position.offset
                fresh.append(inbound)
            if fresh and state is not None:
                log.last_write_ids = [inbound.envelope.id for inbound in fresh]
                writes.append(self._replace(subject, state, log, document))
                applied += fresh

        # Ledger first for what was applied earlier: their ids may be about to leave `last_write_ids`.
        await self._record(unrecorded)
        if writes:
            result = await self.collection.bulk_write(writes, ordered=False)
            if result.matched_count + result.upserted_count != len(writes):
                raise StaleProjection(f"{len(writes) - result.matched_count} documents changed underneath")
        await self._record(applied)
        return len(applied)

    async def prune(self, older_than: datetime) -> int:
        """Forget applied ids of events older than the dedupe horizon."""
        result = await self.ledger.delete_many({"time": {"$lt": older_than}})
        return result.deleted_count

    async def get(self, subject: str) -> S | None:
        document = await self.collection.find_one({"_id": subject})
        return self.model.model_validate(document) if document else None

    async def _record(self, items: Sequence[Inbound]) -> None:
        rows = {
            i.envelope.id: {"_id": i.envelope.id, "subject": i.envelope.subject, "time": i.envelope.time} for i in items
        }
        if not rows:
            return
        try:
            await self.ledger.insert_many(list(rows.values()), ordered=False)
        except BulkWriteError as exc:
            if any(error["code"] != _DUPLICATE_KEY for error in exc.details.get("writeErrors", [])):
                raise

    def _replace(self, subject: str, state: S, log: AppliedLog, previous: Document | None) -> ReplaceOne[Any]:
        revision = previous["_rev"] if previous else 0
        document = {**state.model_dump(mode="python"), "_id": subject, "_applied": log.to_document()}
        document["_rev"] = revision + 1
        # A new document is guarded by "no _rev yet": if another writer inserted it first, the upsert
        # collides on _id and the whole batch is retried from a fresh read.
        guard = {"_id": subject, "_rev": revision} if previous else {"_id": subject, "_rev": {"$exists": False}}
        return ReplaceOne(guard, document, upsert=True)


def _source(inbound: Inbound) -> str:
    return f"{inbound.position.topic}#{inbound.position.partition}"
