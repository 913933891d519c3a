"""Comparing a rebuilt collection with the live one: per document id, missing from the rebuild, extra in
it, or differing (and in which fields), plus the counters maintained beside them.

Both collections are read whole (a tool's scan, once); each document is reduced by the target's
`comparable` to what must be equal, so bookkeeping that two writers of the same facts legitimately
write differently never counts as a difference.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from shared.storage.mongo import Document
from shared.storage.rebuild import Target


@dataclasses.dataclass(frozen=True)
class Difference:
    id: str
    fields: tuple[str, ...]
    """Dotted paths whose values differ (a list counts as one value)."""


@dataclasses.dataclass
class Comparison:
    """How one rebuilt collection compares with its live one."""

    collection: str
    rebuilt: str
    live_count: int = 0
    rebuilt_count: int = 0
    missing: list[str] = dataclasses.field(default_factory=list)
    """In the live collection, not in the rebuild."""
    extra: list[str] = dataclasses.field(default_factory=list)
    """In the rebuild, not in the live collection."""
    differing: list[Difference] = dataclasses.field(default_factory=list)
    totals: list[str] = dataclasses.field(default_factory=list)
    """Counters whose values differ, as `name: live != rebuilt`."""

    @property
    def equal(self) -> bool:
        return not (self.missing or self.extra or self.differing or self.totals)

    def summary(self, shown: int) -> dict[str, Any]:
        """For --json: counts, and the first `shown` ids of each kind."""
        return {
            "collection": self.collection,
            "rebuilt": self.rebuilt,
            "equal": self.equal,
            "live": self.live_count,
            "rebuilt_count": self.rebuilt_count,
            "missing": len(self.missing),
            "extra": len(self.extra),
            "differing": len(self.differing),
            "first_missing": self.missing[:shown],
            "first_extra": self.extra[:shown],
            "first_differing": [{"id": d.id, "fields": list(d.fields)} for d in self.differing[:shown]],
            "totals": self.totals,
        }


async def compare(db: AsyncDatabase[Document], target: Target, rebuilt: str) -> Comparison:
    live = await _comparable(db, target.collection, target.comparable)
    new = await _comparable(db, rebuilt, target.comparable)
    result = Comparison(target.collection, rebuilt, len(live), len(new))
    result.missing = sorted(live.keys() - new.keys())
    result.extra = sorted(new.keys() - live.keys())
    for key in sorted(live.keys() & new.keys()):
        if live[key] != new[key]:
            result.differing.append(Difference(key, tuple(differing_fields(live[key], new[key]))))
    if target.totals is not None:
        before, after = await target.totals(db, target.collection), await target.totals(db, rebuilt)
        result.totals = [
            f"{name}: {before.get(name, 0)} != {after.get(name, 0)}"
            for name in sorted(before.keys() | after.keys())
            if before.get(name, 0) != after.get(name, 0)
        ]
    return result


async def _comparable(db: AsyncDatabase[Document], name: str, reduce: Callable[[Document], Any]) -> dict[str, Any]:
    return {str(document["_id"]): reduce(document) async for document in db[name].find({})}


def differing_fields(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        found: list[str] = []
        for key in sorted(a.keys() | b.keys(), key=str):
            found += differing_fields(a.get(key), b.get(key), f"{prefix}{key}.")
        return found
    return [] if a == b else [prefix.rstrip(".") or "(document)"]
