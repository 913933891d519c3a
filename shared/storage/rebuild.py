"""Rebuilding a service's collections from the log: into new collections, compared with the live ones,
switched over only when asked, and dropped again when the rebuild fails or is interrupted.

A service describes what it keeps from the log as `Target`s (its adapters' `rebuild.py`): the live
collection, the topics it is folded from, how to open a sink that folds batches into a collection of
another name, and what of a stored document must be equal for the two to agree. The engine reads the
union of the targets' topics once (shared.messaging.replay: no consumer group, the live consumers
undisturbed, unreadable records skipped and reported) and hands each target the records of its topics.

Names: the rebuild of a target whose live collection is `c` goes to `<into>` for the first target and
`<into>_<c>` for the others; each keeps its companions (`_summary`, `_applied_events`...) beside it
under the same suffixes. A switch renames `c` (and companions) to `c_before_<stamp>` and the rebuilt
one to `c`: FerretDB v1 has no `renameCollection` with `dropTarget`, so it is two plain renames per
collection, undone if the second fails. The live service should be stopped meanwhile: a write that
lands between the two renames would create `c` anew and make the second rename fail (then undone).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase

from shared.contract.messages import MessageRegistry
from shared.messaging.consumer import Inbound
from shared.messaging.replay import ReplayStats, replay
from shared.storage.mongo import Document


class Sink(Protocol):
    async def apply(self, batch: Sequence[Inbound]) -> object:
        """Fold a batch; may be called again with part of a batch (failure isolation): idempotent."""
        ...

    async def finish(self) -> None:
        """Write what is still held in memory."""
        ...


OpenSink = Callable[[AsyncDatabase[Document], str], Awaitable[Sink]]
Totals = Callable[[AsyncDatabase[Document], str], Awaitable[Mapping[str, int]]]


@dataclasses.dataclass(frozen=True)
class Target:
    """One collection a service keeps from the log."""

    collection: str
    topics: tuple[str, ...]
    open: OpenSink
    """A sink folding into the collection of the given name (created empty, with its companions)."""
    comparable: Callable[[Document], Any]
    """What of a stored document must be equal (its state, as JSON); bookkeeping that legitimately differs
    between two writers of the same facts (revisions, offsets, pending counter transitions) is left out."""
    companions: tuple[str, ...] = ()
    """Suffixes of the collections that belong to it (counters, the event-id ledger): renamed with it."""
    totals: Totals | None = None
    """Counters maintained beside it (the inventory's summary), compared too."""


@dataclasses.dataclass(frozen=True)
class Rebuild:
    """Everything a service keeps from the log, and where."""

    service: str
    mongo_url: str
    database: str
    bootstrap_servers: str
    registry: MessageRegistry
    targets: tuple[Target, ...]

    def names(self, into: str) -> dict[str, str]:
        """Live collection -> its rebuild's name."""
        first = self.targets[0].collection
        return {t.collection: into if t.collection == first else f"{into}_{t.collection}" for t in self.targets}

    def collections(self, into: str) -> list[str]:
        """Every collection a rebuild into `into` creates."""
        names = self.names(into)
        return [names[t.collection] + suffix for t in self.targets for suffix in ("", *t.companions)]


class RebuildError(Exception):
    """The rebuild cannot start or go on; said in one line."""


async def rebuild_into(
    rebuild: Rebuild,
    db: AsyncDatabase[Document],
    into: str,
    *,
    since: datetime | None = None,
    sized: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    keep_on_failure: bool = False,
) -> ReplayStats:
    """Fold the log into new collections named after `into`. On any failure or interruption they are
    dropped (unless `keep_on_failure`), so the next try finds nothing in its way."""
    taken = sorted(set(rebuild.collections(into)) & set(await db.list_collection_names()))
    if taken:
        raise RebuildError(f"{', '.join(taken)} exist already in {db.name}: drop them or choose another --into")
    names = rebuild.names(into)
    try:
        sinks = [(target, await target.open(db, names[target.collection])) for target in rebuild.targets]

        async def handler(batch: Sequence[Inbound]) -> None:
            for target, sink in sinks:
                mine = [item for item in batch if item.position.topic in target.topics]
                if mine:
                    await sink.apply(mine)

        topics = list(dict.fromkeys(topic for target in rebuild.targets for topic in target.topics))
        stats = await replay(
            rebuild.bootstrap_servers, topics, handler, rebuild.registry, since=since, sized=sized, progress=progress
        )
        for _, sink in sinks:
            await sink.finish()
    except BaseException:
        if not keep_on_failure:
            # Shielded: a second Ctrl-C must not leave the cleanup half done either.
            await asyncio.shield(drop(db, rebuild.collections(into)))
        raise
    return stats


async def drop(db: AsyncDatabase[Document], collections: Sequence[str]) -> None:
    for name in collections:
        await db.drop_collection(name)


@dataclasses.dataclass(frozen=True)
class Rename:
    source: str
    target: str


async def switch(rebuild: Rebuild, db: AsyncDatabase[Document], names: Mapping[str, str], stamp: str) -> list[Rename]:
    """Make the collections `names` gives (live collection -> its replacement, e.g. `Rebuild.names(into)`)
    the live ones, keeping each live one as `<name>_before_<stamp>`; all or nothing (renames done are
    undone if one fails). Returns the renames, in order."""
    existing = set(await db.list_collection_names())
    absent = [name for name in names.values() if name not in existing]
    if absent:
        raise RebuildError(f"{absent[0]} does not exist in {db.name}: nothing to switch to")
    plan: list[Rename] = []
    for target in rebuild.targets:
        for suffix in ("", *target.companions):
            live, rebuilt = target.collection + suffix, names[target.collection] + suffix
            if live in existing:
                plan.append(Rename(live, f"{target.collection}_before_{stamp}{suffix}"))
            if rebuilt in existing:
                plan.append(Rename(rebuilt, live))
    done: list[Rename] = []
    try:
        for step in plan:
            await _rename(db, step.source, step.target)
            done.append(step)
    except BaseException:
        for step in reversed(done):
            await asyncio.shield(_rename(db, step.target, step.source))
        raise
    return plan


def kept_before(rebuild: Rebuild, stamp: str) -> dict[str, str]:
    """The collections a switch at `stamp` kept: switching to them undoes it."""
    return {target.collection: f"{target.collection}_before_{stamp}" for target in rebuild.targets}


async def _rename(db: AsyncDatabase[Document], source: str, target: str) -> None:
    await db.client.admin.command("renameCollection", f"{db.name}.{source}", to=f"{db.name}.{target}")
