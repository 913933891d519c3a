"""Counters maintained beside a projection: exact sums over its documents, read by `_id`.

What is counted. Each projection document adds a *share* to the counters: some counts (e.g. 1
deployment, 1 active, its predictions) and an *audience*, the sorted principals allowed to see it
(empty: only admins). Counter documents, in `<projection>_summary`:
- `*`: the sum over every document (what an admin sees);
- `audience:<hash>`: the sum over the documents with exactly that audience. Each document is in one
  audience, so summing distinct audiences never counts a document twice;
- `principal:<name>`: the audiences that name belongs to. It only grows (an audience that empties
  costs one more read, a missing one would undercount), and it is written before the audience's
  counter document is first created, so it is never missing one.
A caller's counts = point reads of its principals' index documents, then of those audiences, summed.

Exact without multi-document transactions. The projection document is written first, and the
counters after, from what the document itself records:
- `_counted`, the share the document adds now, and `_counting`, its *transitions* (share before ->
  share after a write) not yet known to be counted everywhere, each *anchored* at the source
  position of the last event that write applied. Because the document write is guarded by its
  revision, each transition is exactly one step of that document, and `before` is exactly what the
  counters held for it, whoever wrote it and in whatever order events arrived.
- Each counter document records, per source partition, the highest offset whose transitions it has
  counted. A batch counts into each counter document the transitions anchored inside the batch's
  range and past that document's position, then moves the position to the batch's end; the write is
  guarded by `_rev` and redone on conflict (every consumer shares `*`).
- Why every transition is counted once: one write applies the event at (p, o), and only that write
  anchors a transition there. Any batch holding (p, o) either loads the document after that write,
  and so sees the transition, or loaded it before and lost its own guarded write of the same
  document, and so writes no counters. Records are redelivered until the batch holding (p, o) is
  committed, which is after its counters were written. This needs each partition's records in
  offset order (a retry may repeat them, a dead letter may skip one): the consumer, its bisection
  and the replay tool all do that.
- A transition is dropped from its document when a later batch starts past its anchor's position:
  by then it has certainly been counted.

Why not write the counters first, with deltas from the document as loaded (the first design
considered): when another writer changes the document between that load and the (guarded, hence
failing) document write — the other topic's consumer, a record on the wrong partition, a consumer
that lost its partitions — the counters have moved by c(S0+X) - c(S0) and c(S0+U) - c(S0) while the
document ends at S0+X+U, and c is not additive (a health change on a deployment being deleted). A
crash that leaves one partition counted but not applied does the same.

Cost per batch: one read and one guarded bulk write of the counter documents it touches (`*` and
one per audience touched). Summary: one read for an admin; for others one per principal, then one
per audience they belong to.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from shared.storage.backend import Backend, backend_of
from shared.storage.mongo import Document
from shared.storage.revisions import (
    StaleProjection,
    guarded,
    next_revision,
    positions_field,
    positions_of,
    write_guarded,
)

ALL = "*"
COUNTED = "_counted"
COUNTING = "_counting"
Ranges = Mapping[str, tuple[int, int]]
"""Source partition -> (first, last) offset of a batch's records from it."""
_ATTEMPTS = 50


class Contribution(Protocol):
    """What one document adds: counts, and the principals who may see it."""

    @property
    def audience(self) -> Sequence[str]: ...

    @property
    def counts(self) -> Mapping[str, int]: ...


def audience_id(audience: Sequence[str]) -> str | None:
    """The counter document of one audience; None for an empty one (only admins see it)."""
    if not audience:
        return None
    digest = hashlib.sha256("\n".join(sorted(set(audience))).encode()).hexdigest()[:24]
    return f"audience:{digest}"


def principal_id(principal: str) -> str:
    return f"principal:{principal}"


def share_of(contribution: Contribution | None) -> Document | None:
    if contribution is None:
        return None
    counts = {key: value for key, value in sorted(contribution.counts.items()) if value}
    return {"audience": sorted(set(contribution.audience)), "counts": counts}


def record_transition(
    previous: Document | None, after: Contribution | None, anchor: tuple[str, int], batch: Ranges
) -> Document:
    """The counting fields of a document about to replace `previous`: its share now, and the
    transitions still to count (those of `previous` not certainly counted, plus this one if the
    share changes)."""
    before = previous.get(COUNTED) if previous else None
    share = share_of(after)
    transitions = [t for t in (previous or {}).get(COUNTING, []) if not _counted_before(t, batch)]
    if share != before:
        source, offset = anchor
        transitions.append({"source": source, "offset": offset, "before": _by_id(before), "after": share})
    return {COUNTED: share, COUNTING: transitions}


def _by_id(share: Document | None) -> Document | None:
    """A share about to be taken out of the counters, naming its audience by counter document only: that
    document exists (the share was counted into it first), and an erased deployment's document must not
    keep the ids of the people who could see it."""
    if share is None or "audience" not in share:
        return share
    return {"audience_id": audience_id(share["audience"]), "counts": share["counts"]}


def _scope(share: Document) -> str | None:
    return share["audience_id"] if "audience_id" in share else audience_id(share["audience"])


def _counted_before(transition: Document, batch: Ranges) -> bool:
    """Anchored before this batch's first record of its partition: records are applied in order, so
    the batch that held the anchor was handled, counters included, before this one was read."""
    bounds = batch.get(transition["source"])
    return bounds is not None and transition["offset"] < bounds[0]


def due(documents: Iterable[Document | None], batch: Ranges) -> list[Document]:
    """The transitions anchored inside this batch: the ones it must make sure are counted."""
    found = []
    for document in documents:
        for transition in (document or {}).get(COUNTING, []):
            bounds = batch.get(transition["source"])
            if bounds is not None and bounds[0] <= transition["offset"] <= bounds[1]:
                found.append(transition)
    return found


def deltas(transition: Document) -> dict[str, Counter[str]]:
    """How one transition changes each counter document (documents it leaves unchanged omitted)."""
    changes: dict[str, Counter[str]] = defaultdict(Counter)
    for share, sign in ((transition["before"], -1), (transition["after"], 1)):
        if share is None:
            continue
        for scope in (ALL, _scope(share)):
            if scope is not None:
                for key, value in share["counts"].items():
                    changes[scope][key] += sign * value
    nonzero = {
        scope: Counter({key: value for key, value in change.items() if value}) for scope, change in changes.items()
    }
    return {scope: change for scope, change in nonzero.items() if change}


def plan(transitions: Sequence[Document], current: Mapping[str, Document], batch: Ranges) -> dict[str, Document]:
    """The new version of each counter document that some transition still has to change."""
    audiences: dict[str, list[str]] = {}
    pending: dict[str, Counter[str]] = defaultdict(Counter)
    for transition in transitions:
        for scope, change in deltas(transition).items():
            if transition["offset"] > positions_of(current.get(scope)).get(transition["source"], -1):
                pending[scope].update(change)
            for share in (transition["before"], transition["after"]):
                if share is not None and "audience" in share and audience_id(share["audience"]) == scope:
                    audiences[scope] = share["audience"]
    planned = {}
    for scope, change in pending.items():
        previous = current.get(scope)
        counts: Counter[str] = Counter((previous or {}).get("counts", {}))
        counts.update(change)
        positions = positions_of(previous)
        for source, (_, last) in batch.items():
            positions[source] = max(positions.get(source, -1), last)
        document: Document = {
            "_id": scope,
            "counts": {key: value for key, value in sorted(counts.items()) if value},
            "_applied": positions_field(positions),
            "_rev": next_revision(previous),
        }
        if scope != ALL:
            # A scope known only from a share being taken out exists already (see _by_id): keep its list.
            document["audience"] = audiences.get(scope, (previous or {}).get("audience", []))
        planned[scope] = document
    return planned


def total(documents: Iterable[Document]) -> dict[str, int]:
    summed: Counter[str] = Counter()
    for document in documents:
        summed.update(document.get("counts", {}))
    return dict(summed)


class Counters:
    """The counter documents of one projection (see the module docstring)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def settle(self, documents: Iterable[Document | None], batch: Ranges) -> None:
        """Count the transitions anchored inside `batch` that are not counted yet, exactly once."""
        transitions = due(documents, batch)
        scopes = {scope for transition in transitions for scope in deltas(transition)}
        if not scopes:
            return
        backend = await backend_of(self.collection.database.client)
        for attempt in range(_ATTEMPTS):
            current = await backend.find_by_ids(self.collection, scopes)
            planned = plan(transitions, current, batch)
            if not planned:
                return
            await self._index([document for scope, document in planned.items() if scope not in current], backend)
            writes = [guarded(document, current.get(scope)) for scope, document in planned.items()]
            if not await write_guarded(self.collection, writes, backend):
                return
            # Another consumer counted into the same documents meanwhile: read them again.
            await asyncio.sleep(random.uniform(0, 0.005 * (attempt + 1)))
        raise StaleProjection(f"summary counters kept changing underneath for {_ATTEMPTS} attempts")

    async def uncounted(self, transitions: Sequence[Document]) -> list[Document]:
        """The transitions some counter document has not counted yet (its position for the transition's
        source is still before the anchor). Positions only move forward, so one found counted stays so."""
        scopes = {scope for transition in transitions for scope in deltas(transition)}
        if not scopes:
            return []
        backend = await backend_of(self.collection.database.client)
        current = await backend.find_by_ids(self.collection, scopes)
        return [
            transition
            for transition in transitions
            if any(
                positions_of(current.get(scope)).get(transition["source"], -1) < transition["offset"]
                for scope in deltas(transition)
            )
        ]

    async def read(self, principals: Sequence[str] | None) -> dict[str, int]:
        """Counts over everything (None: an admin) or over what any of `principals` may see."""
        backend = await backend_of(self.collection.database.client)
        if principals is None:
            everything = await self.collection.find_one({"_id": ALL})
            return total([everything] if everything else [])
        index = await backend.find_by_ids(self.collection, [principal_id(p) for p in principals])
        audiences = sorted({scope for entry in index.values() for scope in entry.get("audiences", [])})
        return total((await backend.find_by_ids(self.collection, audiences)).values())

    async def _index(self, created: Sequence[Document], backend: Backend) -> None:
        """Add the audiences about to be created to their principals' index documents."""
        additions: dict[str, set[str]] = defaultdict(set)
        for document in created:
            for principal in document.get("audience", []):
                additions[principal_id(principal)].add(document["_id"])
        if not additions:
            return
        updates = [
            UpdateOne({"_id": key}, {"$addToSet": {"audiences": {"$each": sorted(ids)}}}, upsert=True)
            for key, ids in sorted(additions.items())
        ]
        for attempt in range(3):
            try:
                for chunk in backend.chunks(updates):
                    await self.collection.bulk_write(list(chunk), ordered=False)
                return
            except Exception as exc:  # $addToSet is idempotent: a lost upsert race is simply redone
                if attempt == 2 or not backend.lost_upsert_race(exc):
                    raise
