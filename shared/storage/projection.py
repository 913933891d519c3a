"""Applies messages to a per-subject projection effectively once, with one guarded write per document.

Two ways an event can come back, two guards:
- Redelivery after a crash (same partition, same offset): each document records the highest offset
  applied per source partition, in the same single-document write as the state. Exact, forever.
- An upstream that publishes the same event again (same id, new offset): before applying, each event
  id is claimed in a ledger collection by the delivery (partition and offset) that carries it. A
  second delivery of the id finds the claim of another position and is skipped; a redelivery of
  the claiming position goes through and the document's offsets decide. Claims are kept for the
  dedupe horizon (FerretDB has no TTL indexes, so `prune` trims them).

Every write is guarded by the document's revision, on every backend (shared.storage.revisions):
a consumer that lost its partitions in a rebalance, or the other topic's consumer touching the same
document, can never overwrite newer state; the loser raises StaleProjection and its batch is
re-read and retried. Records of one partition must be applied in offset order (a retry may repeat
them, a dead letter may skip one): the positions mean "everything up to here".

A projection may maintain counters beside it (shared.storage.counters): each document write then
also records the document's share of the counters and the transition to count, and the counters
are settled right after the batch's documents are written.

A batch costs one ledger insert, one load of its documents, one guarded bulk write (chunked as the
backend decides), and with counters one read and one write of the counter documents it touches.
How documents are loaded by `_id` (one `$in` on MongoDB, concurrent point reads on FerretDB) and
the chunk size are decisions of shared.storage.backend.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from shared.domain.recorded import Recorded
from shared.messaging.consumer import Inbound
from shared.storage.backend import DUPLICATE_KEY, Backend, backend_of
from shared.storage.counters import COUNTING, Contribution, Counters, Ranges, record_transition
from shared.storage.layout import packed, unpacked
from shared.storage.mongo import Document
from shared.storage.revisions import (
    StaleProjection,
    guarded,
    next_revision,
    positions_field,
    positions_of,
    write_guarded,
)

__all__ = ["ProjectionStore", "StaleProjection"]

S = TypeVar("S", bound=BaseModel)
_STORED_STATE = {"_counted": False, "_counting": False}
"""What a point read leaves on the server: the counters' bookkeeping is of no use to a reader."""
Evolve = Callable[[S | None, Recorded[Any]], S]
Contribute = Callable[[S], Contribution | None]


class ProjectionStore(Generic[S]):
    """A collection of one document per subject (the state packed as shared.storage.layout says, with
    copies of the `queried` paths, plus `_applied` and `_rev`), its ledger of claimed event ids, and
    optionally `counters` over it (`contribute` says what each state adds to them)."""

    def __init__(
        self,
        collection: AsyncCollection[Document],
        model: type[S],
        *,
        counters: Counters | None = None,
        contribute: Contribute[S] | None = None,
        queried: Sequence[str] = (),
    ) -> None:
        if (counters is None) != (contribute is None):
            raise ValueError("counters and contribute go together")
        self.collection = collection
        self.ledger: AsyncCollection[Document] = collection.database[f"{collection.name}_applied_events"]
        self.model = model
        self.counters = counters
        self.contribute = contribute
        self.queried = tuple(queried)

    async def prepare(self) -> None:
        backend = await self._backend()
        await backend.ensure_indexes(self.ledger, [IndexModel([("time", ASCENDING)])])

    async def apply(self, batch: Sequence[Inbound], evolve: Evolve[S]) -> int:
        """Fold the batch into the projection; returns how many messages were new."""
        backend = await self._backend()
        by_subject: dict[str, list[Inbound]] = defaultdict(list)
        for inbound in batch:
            by_subject[inbound.envelope.subject].append(inbound)
        ranges = _ranges(batch)
        claims = await self._claim(batch, backend)
        current = await backend.find_by_ids(self.collection, by_subject)

        written: dict[str, Document | None] = {}
        changed: dict[str, tuple[Document, Document | None]] = {}
        counting_for_nobody: list[Document] = []
        applied = 0
        for subject, items in by_subject.items():
            document = current.get(subject)
            state = unpacked(self.model, document) if document else None
            positions = positions_of(document)
            anchor: tuple[str, int] | None = None
            for inbound in items:
                source, offset = _source(inbound), inbound.position.offset
                if claims[inbound.envelope.id] != (source, offset):
                    continue  # the same event was delivered before at another position
                if positions.get(source, -1) >= offset:
                    continue  # redelivered after a crash: already in this document
                state = evolve(state, inbound.recorded)
                positions[source] = offset
                anchor = (source, offset)
                applied += 1
            if anchor is None or state is None:
                written[subject] = document
                continue
            new = self._document(subject, state, positions, document)
            if self.contribute is not None:
                share = self.contribute(state)
                new.update(record_transition(document, share, anchor, ranges))
                if share is None and new[COUNTING]:
                    counting_for_nobody.append(new)
            changed[subject] = (new, document)
            written[subject] = new
        if counting_for_nobody:
            await self._forget_counted(counting_for_nobody, ranges)
        writes = [guarded(new, document) for new, document in changed.values()]
        lost = await write_guarded(self.collection, writes, backend)
        if lost:
            raise StaleProjection(f"{lost} documents changed underneath")
        if self.counters is not None:
            await self.counters.settle(written.values(), ranges)
        return applied

    async def _forget_counted(self, documents: list[Document], batch: Ranges) -> None:
        """Documents that count for nobody any more (deleted, erased) drop the pending transitions the
        counters already hold, so that they keep no audience (the ids of the people who could see them)
        once nothing is left to count; one read of the counter documents for the whole batch. Those
        anchored in this batch are counted after the write."""
        assert self.counters is not None
        earlier = [t for document in documents for t in document[COUNTING] if not _anchored_in(t, batch)]
        if not earlier:
            return
        still = await self.counters.uncounted(earlier)
        for document in documents:
            document[COUNTING] = [t for t in document[COUNTING] if _anchored_in(t, batch) or t in still]

    async def prune(self, older_than: datetime) -> int:
        """Forget claims of events older than the dedupe horizon."""
        result = await self.ledger.delete_many({"time": {"$lt": older_than}})
        return result.deleted_count

    async def release(self, batch: Sequence[Inbound]) -> None:
        """Give back the claims of events that were never applied (their records were dead-lettered),
        so that a re-driven copy at a new position is applied instead of skipped as a duplicate."""
        for item in batch:
            claim = {"_id": item.envelope.id, "source": _source(item), "offset": item.position.offset}
            await self.ledger.delete_one(claim)

    async def get(self, subject: str) -> S | None:
        document = await self.collection.find_one({"_id": subject}, _STORED_STATE)
        return unpacked(self.model, document) if document else None

    async def _backend(self) -> Backend:
        return await backend_of(self.collection.database.client)

    async def _claim(self, batch: Sequence[Inbound], backend: Backend) -> dict[str, tuple[str, int]]:
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
        ordered = list(rows.values())
        try:
            await self.ledger.insert_many(ordered, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error["code"] != DUPLICATE_KEY for error in errors):
                raise
            # Rare (redeliveries and re-publications): read back who owns the ids already claimed.
            taken = [ordered[error["index"]]["_id"] for error in errors]
            rows.update(await backend.find_by_ids(self.ledger, taken))
        return {event_id: (row["source"], row["offset"]) for event_id, row in rows.items()}

    def _document(self, subject: str, state: S, positions: dict[str, int], previous: Document | None) -> Document:
        document = {**packed(state, self.queried), "_id": subject, "_applied": positions_field(positions)}
        document["_rev"] = next_revision(previous)
        return document


def _ranges(batch: Sequence[Inbound]) -> Ranges:
    ranges: dict[str, tuple[int, int]] = {}
    for inbound in batch:
        source, offset = _source(inbound), inbound.position.offset
        first, last = ranges.get(source, (offset, offset))
        ranges[source] = (min(first, offset), max(last, offset))
    return ranges


def _anchored_in(transition: Document, batch: Ranges) -> bool:
    bounds = batch.get(transition["source"])
    return bounds is not None and bounds[0] <= transition["offset"] <= bounds[1]


def _source(inbound: Inbound) -> str:
    return f"{inbound.position.topic}#{inbound.position.partition}"
