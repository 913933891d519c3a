"""A deployment's audit trail, kept in its projection so the inventory can show it without the log.

What is kept is a function of the set of events, not of their order (the inventory's rule, see
services.inventory.domain.evolve), so a replay equals the live projection:
- `events`: the latest KEEP entries by stamp (event time, then event id) of every event but health
  reports and predictions; an event delivered twice is one entry (keyed by event id);
- `health`: per dimension, the latest KEEP_HEALTH reports by stamp, apart so that frequent monitoring
  cannot push the deployment's history out.
The latest k of a set stays the latest k of the set whatever the order of insertions, and so does a
map keyed by event id: that is all the fold relies on.

Reading (`audit`) merges both oldest first and fills in what each change replaced ("importance LOW →
HIGH") from the entries before it. A health report shows only when it changes its dimension's status
(a platform team wants the changes, not every report), judged against the report kept just before it:
with reports arriving out of order, whether a report is a change depends on its neighbours, so no
bounded state could keep every change exactly; within the kept window it is exact, in any order. The
oldest report of a full window has no known predecessor: it sets the status and is not shown.
Erasure leaves nothing: the trail lives in the view that erasure resets (materialize).

Cost: the projection reads and writes a deployment's whole document on every event, predictions
included, and FerretDB's time for that grows with the document's values and bytes. So each window is
one string in the packed state (one value): its entries as JSON rows (not objects), deflated and in
base64, read only when an entry is added to that window or the trail is shown. Measured on a full
trail (100 events and 4 x 25 reports, random UUIDs as ids): as nested models the domain's CPU per
event was 4.6 times that of a deployment without trail; as plain JSON rows 1.5 times, with a 48 kB
state that took FerretDB's read and write of the document from ~5 to ~13 ms; deflated, ~1.2 times
and a 15 kB state (the ids, random, are most of it).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import core_schema, to_json

from services.inventory.domain.summaries import named_actor, said, was
from shared.contract.events.monitoring import HEALTH_DIMENSIONS, HEALTH_REPORTS
from shared.domain.fold import stamp_of
from shared.domain.recorded import Recorded

KEEP = 100
KEEP_HEALTH = 25
_DIMENSION_OF = {report.type_name: report.dimension for report in HEALTH_REPORTS}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_LEVEL = 1
"""Deflate's fastest level: level 6 saved 6% more on a full window of events."""


@dataclasses.dataclass(frozen=True, slots=True)
class TrailEntry:
    """One event as the trail keeps it; `text` may hold `{was:KEY}` (services.inventory.domain.summaries)."""

    at: datetime
    event_id: str
    type: str
    text: str
    actor: str | None = None
    correlation_id: str | None = None
    changes: tuple[tuple[str, str], ...] = ()
    reason: str | None = None

    @property
    def dimension(self) -> str | None:
        return _DIMENSION_OF.get(self.type)

    @property
    def order(self) -> tuple[Any, ...]:
        """Stamp order; the rest only decides between two different events sent under one id."""
        return (self.at, self.event_id, self.type, self.text, self.reason or "", self.actor or "")

    def row(self) -> list[Any]:
        changes = [list(change) for change in self.changes]
        at_ms = (self.at - _EPOCH) // _MS  # times are whole milliseconds (shared.domain.fold.utc_ms)
        return [at_ms, self.event_id, self.type, self.text, self.actor, self.correlation_id, changes, self.reason]

    @classmethod
    def of_row(cls, row: list[Any]) -> TrailEntry:
        at_ms, event_id, kind, text, actor, correlation_id, changes, reason = row
        pairs = tuple((key, value) for key, value in changes)
        return cls(_EPOCH + at_ms * _MS, event_id, kind, text, actor, correlation_id, pairs, reason)


class Entries:
    """Entries oldest first, stored as their rows' JSON, deflated and in base64 (see the module's "Cost"),
    and read back when first used."""

    def __init__(self, text: str = "") -> None:
        self.text = text

    @classmethod
    def of_rows(cls, rows: list[list[Any]]) -> Entries:
        entries = cls(base64.b64encode(zlib.compress(to_json(rows), _LEVEL)).decode("ascii") if rows else "")
        entries.__dict__["rows"] = rows  # already read: the next event of the batch reuses them
        return entries

    @cached_property
    def rows(self) -> list[list[Any]]:
        rows: list[list[Any]] = json.loads(zlib.decompress(base64.b64decode(self.text))) if self.text else []
        return rows

    @cached_property
    def items(self) -> tuple[TrailEntry, ...]:
        return tuple(TrailEntry.of_row(row) for row in self.rows)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entries) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"Entries({self.text})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            json_schema_input_schema=core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(lambda value: value.text),
        )

    @classmethod
    def _validate(cls, value: Any) -> Entries:
        if isinstance(value, Entries):
            return value
        if isinstance(value, str):
            return cls(value)
        raise ValueError("expected the text of trail entries")


class Trail(BaseModel):
    """The kept entries: the deployment's events, and each health dimension's reports."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    events: Entries = Entries()
    health: dict[str, Entries] = Field(default_factory=dict)


class AuditItem(BaseModel):
    """One line of the trail as people read it."""

    model_config = ConfigDict(frozen=True)

    time: datetime
    type: str
    actor: str | None
    summary: str
    reason: str | None
    event_id: str
    correlation_id: str | None


def entry_of(event: Recorded[Any]) -> TrailEntry | None:
    """The trail's entry for `event`; None for the events it leaves out (predictions, erasure)."""
    what = said(event.message)
    if what is None:
        return None
    at, event_id = stamp_of(event)
    actor = event.actor or named_actor(event.message)
    return TrailEntry(
        at, event_id, event.message.type_name, what.text, actor, event.correlation_id, what.changes, what.reason
    )


def record(trail: Trail, entry: TrailEntry, *, keep: int = KEEP, keep_health: int = KEEP_HEALTH) -> Trail:
    """`trail` with `entry` among the kept ones (or `trail` itself if it keeps nothing new)."""
    dimension = entry.dimension
    if dimension is None:
        events = _latest(trail.events, entry, keep)
        return trail if events is trail.events else trail.model_copy(update={"events": events})
    current = trail.health.get(dimension, Entries())
    kept = _latest(current, entry, keep_health)
    if kept is current:
        return trail
    # Rebuilt in one order, so that the same windows are the same stored text.
    health = {
        d: kept if d == dimension else trail.health[d] for d in HEALTH_DIMENSIONS if d in trail.health or d == dimension
    }
    return trail.model_copy(update={"health": health})


def _latest(entries: Entries, entry: TrailEntry, limit: int) -> Entries:
    """The latest `limit` of `entries` and `entry`, one per event id; `entries` itself if unchanged.
    Works on the stored rows: this runs for every event, and most arrive newest (appended)."""
    rows, new = entries.rows, entry.row()
    if rows and len(rows) >= limit and _row_order(new) < _row_order(rows[0]):
        return entries  # older than everything kept: it would be dropped at once
    same = next((row for row in rows if row[1] == new[1]), None)
    if same is not None:
        if _row_order(same) >= _row_order(new):
            return entries  # a duplicate (or a lesser copy under one id): one entry, the same in any order
        rows = [row for row in rows if row is not same]
    newest = not rows or _row_order(new) > _row_order(rows[-1])
    kept = [*rows, new] if newest else sorted([*rows, new], key=_row_order)
    return Entries.of_rows(kept[-limit:])


def _row_order(row: list[Any]) -> tuple[Any, ...]:
    """TrailEntry.order, on a row."""
    return (row[0], row[1], row[2], row[3], row[7] or "", row[4] or "")


def audit(trail: Trail, keep_health: int = KEEP_HEALTH) -> list[AuditItem]:
    """The trail oldest first, each entry with its summary; health reports only where they change."""
    windows = [window.items for window in trail.health.values()]
    baselines = {window[0].event_id for window in windows if len(window) >= keep_health}
    known: dict[str, str] = {f"health.{dimension}": "unknown" for dimension in HEALTH_DIMENSIONS}
    items: list[AuditItem] = []
    merged = [*trail.events.items, *(entry for window in windows for entry in window)]
    for entry in sorted(merged, key=lambda e: e.order):
        summary = _filled(entry.text, entry.changes, known)
        unchanged = entry.dimension is not None and all(known.get(key) == value for key, value in entry.changes)
        known.update(entry.changes)
        if unchanged or entry.event_id in baselines:
            continue
        items.append(
            AuditItem(
                time=entry.at,
                type=entry.type,
                actor=entry.actor,
                summary=summary,
                reason=entry.reason,
                event_id=entry.event_id,
                correlation_id=entry.correlation_id,
            )
        )
    return items


def _filled(text: str, changes: Sequence[tuple[str, str]], known: dict[str, str]) -> str:
    for key, _ in changes:
        before = known.get(key)
        text = text.replace(was(key), f"{before} → " if before is not None else "")
    return text
