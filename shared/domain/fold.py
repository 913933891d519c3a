"""Building blocks for folds that give the same state whatever order the events arrive in.

A projection fed by several topics, or by producers that put one subject's records on different
partitions, sees each subject's events in any order. It stays order-independent when every part of
its state is one of:
- a last-writer-wins register: the value of the event with the greatest `Stamp` (event time, then
  event id) stands, so a late, older event changes nothing;
- a map of such registers, with removals kept as tombstones (a `Stamped` whose value is None) so an
  older addition arriving late cannot bring an entry back;
- a sum, a maximum or a set union (commutative by nature);
- an absorbing flag (deleted, erased) that no later event clears.

Times are compared as the database keeps them (UTC, whole milliseconds): a fold that compared
microseconds would decide differently once its state had been stored and read back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from shared.domain.recorded import Recorded

Stamp = tuple[datetime, str]
"""(event time, event id): the total order of last-writer-wins."""

T = TypeVar("T")
K = TypeVar("K")


def utc_ms(moment: datetime) -> datetime:
    """`moment` in UTC, truncated to the millisecond (what MongoDB stores)."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def stamp_of(event: Recorded[Any]) -> Stamp:
    return (utc_ms(event.time), event.id)


class Stamped(BaseModel, Generic[T]):
    """A value with the stamp of the event that wrote it; `value` None is a tombstone where allowed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    value: T
    at: datetime
    event_id: str

    @property
    def stamp(self) -> Stamp:
        return (self.at, self.event_id)

    @classmethod
    def of(cls, value: T, event: Recorded[Any]) -> Stamped[T]:
        at, event_id = stamp_of(event)
        return cls(value=value, at=at, event_id=event_id)


class HasStamp(Protocol):
    @property
    def stamp(self) -> Stamp: ...


S = TypeVar("S", bound=HasStamp)


def newest(*candidates: S | None) -> S | None:
    """The candidate with the greatest stamp (last writer wins); None if there is none."""
    present = [c for c in candidates if c is not None]
    return max(present, key=lambda c: c.stamp) if present else None


def merge_newest(items: Iterable[S], item: S, key: Callable[[S], K], order: Callable[[S], Any]) -> tuple[S, ...]:
    """A map of last-writer-wins registers kept as a tuple: `item` replaces the entry with the same
    key if its stamp is greater. The result is sorted by `order`, so equal maps are equal tuples."""
    by_key = {key(existing): existing for existing in items}
    current = by_key.get(key(item))
    if current is None or item.stamp > current.stamp:
        by_key[key(item)] = item
    return tuple(sorted(by_key.values(), key=order))
