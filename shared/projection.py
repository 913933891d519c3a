"""Applies messages to a per-subject projection effectively once, with one atomic write per document.

Each document carries, next to the state, what has been applied to it: the highest offset seen per
source partition (exact dedupe of redelivery after a crash) and the ids of the latest events (dedupe
of an upstream that publishes the same event twice). Both are written in the same single-document
replace as the state, guarded by a revision number, so a crash between the write and the offset
commit only causes a harmless re-read. A batch is one find and one bulk write, whatever its size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pymongo import ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection

from shared.kafka.consumer import Inbound
from shared.mongo import Document

S = TypeVar("S", bound=BaseModel)
Evolve = Callable[[S | None, Inbound], S]

RECENT_IDS_KEPT = 64


class StaleProjection(RuntimeError):
    """Another writer changed a document since it was read; the batch must be re-read and retried."""


class AppliedLog(BaseModel):
    positions: dict[str, int] = {}
    recent_ids: list[str] = []

    def has_applied(self, inbound: Inbound) -> bool:
        position = inbound.position
        last = self.positions.get(f"{position.topic}#{position.partition}")
        return (last is not None and position.offset <= last) or inbound.envelope.id in self.recent_ids

    def record(self, inbound: Inbound) -> None:
        position = inbound.position
        self.positions[f"{position.topic}#{position.partition}"] = position.offset
        self.recent_ids.append(inbound.envelope.id)
        del self.recent_ids[:-RECENT_IDS_KEPT]

    def to_document(self) -> Document:
        # Topic names contain dots, which cannot be document keys: store the positions as a list.
        return {
            "positions": [{"source": key, "offset": offset} for key, offset in sorted(self.positions.items())],
            "recent_ids": self.recent_ids,
        }

    @classmethod
    def from_document(cls, document: Document | None) -> AppliedLog:
        if not document:
            return cls()
        positions = {item["source"]: item["offset"] for item in document.get("positions", [])}
        return cls(positions=positions, recent_ids=list(document.get("recent_ids", [])))


class ProjectionStore(Generic[S]):
    """A collection of one document per subject: the state's fields plus `_applied` and `_rev`."""

    def __init__(self, collection: AsyncCollection[Document], model: type[S]) -> None:
        self.collection = collection
        self.model = model

    async def apply(self, batch: Sequence[Inbound], evolve: Evolve[S]) -> int:
        """Fold the batch into the projection; returns how many messages were new."""
        by_subject: dict[str, list[Inbound]] = defaultdict(list)
        for inbound in batch:
            by_subject[inbound.envelope.subject].append(inbound)

        current = {
            document["_id"]: document async for document in self.collection.find({"_id": {"$in": list(by_subject)}})
        }
        writes: list[ReplaceOne[Document]] = []
        applied = 0
        for subject, items in by_subject.items():
            document = current.get(subject)
            state = self.model.model_validate(document) if document else None
            log = AppliedLog.from_document(document.get("_applied") if document else None)
            changed = False
            for inbound in items:
                if log.has_applied(inbound):
                    continue
                state = evolve(state, inbound)
                log.record(inbound)
                changed = True
                applied += 1
            if changed and state is not None:
                writes.append(self._replace(subject, state, log, document))
        if writes:
            result = await self.collection.bulk_write(writes, ordered=False)
            if result.matched_count + result.upserted_count != len(writes):
                raise StaleProjection(f"{len(writes) - result.matched_count} documents changed underneath")
        return applied

    def _replace(self, subject: str, state: S, log: AppliedLog, previous: Document | None) -> ReplaceOne[Any]:
        revision = previous["_rev"] if previous else 0
        document = {**state.model_dump(mode="python"), "_id": subject, "_applied": log.to_document()}
        document["_rev"] = revision + 1
        # A new document is guarded by "no _rev yet": if another writer inserted it first, the upsert
        # collides on _id and the whole batch is retried from a fresh read.
        guard = {"_id": subject, "_rev": revision} if previous else {"_id": subject, "_rev": {"$exists": False}}
        return ReplaceOne(guard, document, upsert=True)

    async def get(self, subject: str) -> S | None:
        document = await self.collection.find_one({"_id": subject})
        return self.model.model_validate(document) if document else None
