"""Prediction counts that fold to the same numbers in any order, in a document that stays small.

What is kept: the counts of PredictionsRecorded summed by (predicted UTC day, observation bucket).
The observation bucket is the event time floored to
- 5 minutes, while it lies in the UTC hour of the newest observation or the hour before;
- the hour, while it lies in the UTC day of the newest observation or the day before;
- the UTC day after that,
where the newest observation is the greatest event time among the deployment's PredictionsRecorded
(a maximum, so the same in any order). A busy deployment holds at most 24 + 48 entries for the last
two days and then one or two per day of service: the document grows with the days a deployment
serves (as a per-day series must), never with the number of events. Total, per-day counts and the
last prediction time are derived from the entries. Each entry is stored as one string (see
`PredictionCount`): FerretDB's cost of a write grows with the number of values in the document.

A statistics clear recorded at time T removes the counts whose observation bucket starts at or before
T and whose predicted day is in its range, and ignores such counts whenever they arrive. A range
covers the whole UTC days it touches ([start, end): the day of `end` only if `end` is past its
midnight); no range covers every day. So a recent clear is exact to 5 minutes; as buckets coarsen it
also covers the rest of its bucket: predictions observed after the clear in the same hour once that
hour is two hours old, and in the same UTC day once that day is two days old. Coarsening only ever
widens what a clear covers, so applying a clear and coarsening commute and the result does not depend
on the order of events. (No fold can be exact, order-independent and bounded at once: a clear arriving
late may name any instant, and telling counts apart around every instant means keeping one entry per
event.) The clear's `model_package_id` is not honoured: counts are not kept per model.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, field_serializer, field_validator

from shared.domain.fold import Stamp, utc_ms

SLOT_MINUTES = 5
SLOT_PRECISION_HOURS = 2
"""Observations in the newest observation's UTC hour and the one before keep their 5-minute slot."""
HOUR_PRECISION_DAYS = 2
"""Observations in the newest observation's UTC day and the one before keep their hour."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PredictionCount(_Part):
    day: str
    """The predicted UTC day, ISO."""
    observed: datetime
    """The start of the observation bucket (see the module docstring)."""
    count: int
    last_at: datetime
    """The latest predicted_at counted here."""

    @property
    def key(self) -> tuple[str, datetime]:
        return (self.day, self.observed)

    def stored(self) -> tuple[str, str]:
        """As stored: `{"<day> <bucket start>": "<count> <last_at>"}` entries of one object."""
        return f"{self.day} {self.observed.strftime(_MINUTE)}", f"{self.count} {self.last_at.isoformat()}"

    @classmethod
    def parse(cls, key: str, value: str) -> PredictionCount:
        day, observed = key.split(" ")
        count, last_at = value.split(" ")
        return cls(
            day=day,
            observed=datetime.strptime(observed, _MINUTE).replace(tzinfo=UTC),
            count=int(count),
            last_at=datetime.fromisoformat(last_at),
        )


_MINUTE = "%Y-%m-%dT%H:%MZ"  # bucket starts are whole minutes; no dots, which field names may not hold


class StatisticsClear(_Part):
    """A DeploymentStatisticsCleared: its stamp and the predicted days it covers (None: unbounded)."""

    at: datetime
    event_id: str
    first_day: str | None = None
    last_day: str | None = None

    @classmethod
    def of(cls, at: datetime, event_id: str, start: datetime | None, end: datetime | None) -> StatisticsClear:
        first = utc_ms(start).date().isoformat() if start else None
        last = (utc_ms(end) - timedelta(milliseconds=1)).date().isoformat() if end else None
        return cls(at=at, event_id=event_id, first_day=first, last_day=last)

    @property
    def stamp(self) -> Stamp:
        return (self.at, self.event_id)

    @property
    def all_time(self) -> bool:
        return self.first_day is None and self.last_day is None

    def covers_day(self, day: str) -> bool:
        return (self.first_day is None or self.first_day <= day) and (self.last_day is None or day <= self.last_day)

    def covers(self, day: str, observed: datetime) -> bool:
        return observed <= self.at and self.covers_day(day)

    def _days_within(self, other: StatisticsClear) -> bool:
        if self.first_day is not None and self.last_day is not None and self.first_day > self.last_day:
            return True  # an empty range
        low = other.first_day is None or (self.first_day is not None and self.first_day >= other.first_day)
        high = other.last_day is None or (self.last_day is not None and self.last_day <= other.last_day)
        return low and high

    def dominated_by(self, other: StatisticsClear) -> bool:
        """Does `other` cover all this clear covers (later or as late, over the same days or more)?
        Of two that cover the same, the one with the greater event id stands."""
        if not (self.at <= other.at and self._days_within(other)):
            return False
        same = self.at == other.at and other._days_within(self)
        return not same or self.event_id < other.event_id


def add_clear(clears: Iterable[StatisticsClear], new: StatisticsClear) -> tuple[StatisticsClear, ...]:
    """The clears that still matter: a clear covered by another one changes nothing and is dropped."""
    kept = list(clears)
    if any(new.dominated_by(other) for other in kept):
        return tuple(kept)
    kept = [other for other in kept if not other.dominated_by(new)]
    return tuple(sorted([*kept, new], key=lambda c: c.stamp))


def latest_all_time_clear(clears: Iterable[StatisticsClear]) -> datetime | None:
    return max((c.at for c in clears if c.all_time), default=None)


class Predictions(_Part):
    total: int = 0
    last_at: datetime | None = None
    newest_observation: datetime | None = None
    counts: tuple[PredictionCount, ...] = ()
    """Sorted by (day, observed); stored as one object of strings (see PredictionCount.stored)."""

    @field_serializer("counts")
    def _store_counts(self, counts: tuple[PredictionCount, ...]) -> dict[str, str]:
        return dict(entry.stored() for entry in counts)

    @field_validator("counts", mode="before")
    @classmethod
    def _load_counts(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return tuple(sorted((PredictionCount.parse(k, v) for k, v in value.items()), key=lambda e: e.key))
        return value

    @property
    def daily(self) -> dict[str, int]:
        """Predicted UTC day (ISO) -> predictions that day."""
        days: dict[str, int] = defaultdict(int)
        for entry in self.counts:
            days[entry.day] += entry.count
        return dict(days)

    def counted(
        self, count: int, predicted_at: datetime, observed: datetime, clears: Iterable[StatisticsClear]
    ) -> Predictions:
        if count == 0:
            return self  # nothing served: no count, no last time
        observed, predicted_at = utc_ms(observed), utc_ms(predicted_at)
        entry = PredictionCount(
            day=predicted_at.date().isoformat(), observed=observed, count=count, last_at=predicted_at
        )
        previous = self.newest_observation
        newest = max(previous or observed, observed)
        if previous is None or _hour(newest) != _hour(previous):
            return _settled([*self.counts, entry], clears, newest)  # buckets may coarsen: redo them all
        # Same hour of the newest observation, same buckets: only the new count needs placing.
        key = (entry.day, observation_bucket(observed, newest))
        if any(clear.covers(*key) for clear in clears):
            return self.model_copy(update={"newest_observation": newest})
        counts = list(self.counts)
        index = bisect.bisect_left(counts, key, key=lambda e: e.key)
        if index < len(counts) and counts[index].key == key:
            merged = counts[index]
            counts[index] = merged.model_copy(
                update={"count": merged.count + count, "last_at": max(merged.last_at, predicted_at)}
            )
        else:
            counts.insert(index, entry.model_copy(update={"observed": key[1]}))
        return Predictions(
            total=self.total + count,
            last_at=max(self.last_at or predicted_at, predicted_at),
            newest_observation=newest,
            counts=tuple(counts),
        )

    def cleared(self, clears: Iterable[StatisticsClear]) -> Predictions:
        return _settled(self.counts, clears, self.newest_observation)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def observation_bucket(observed: datetime, newest: datetime) -> datetime:
    """The start of the bucket `observed` falls in, given the newest observation (see module docstring)."""
    return _Buckets(newest)(observed)


class _Buckets:
    """observation_bucket for one newest observation, with its boundaries worked out once."""

    def __init__(self, newest: datetime) -> None:
        hour = _hour(newest)
        self.slots_from = hour - timedelta(hours=SLOT_PRECISION_HOURS - 1)
        self.hours_from = hour.replace(hour=0) - timedelta(days=HOUR_PRECISION_DAYS - 1)

    def __call__(self, observed: datetime) -> datetime:
        # Most counts are already on their bucket's start: skip the (slow) replace then.
        if observed.second or observed.microsecond or observed.minute % SLOT_MINUTES:
            observed = observed.replace(
                minute=observed.minute - observed.minute % SLOT_MINUTES, second=0, microsecond=0
            )
        if observed >= self.slots_from:
            return observed
        if observed.minute:
            observed = observed.replace(minute=0)
        if observed >= self.hours_from or not observed.hour:
            return observed
        return observed.replace(hour=0)


def _settled(
    counts: Iterable[PredictionCount], clears: Iterable[StatisticsClear], newest: datetime | None
) -> Predictions:
    """Counts re-bucketed for `newest`, merged by (day, bucket), without what a clear covers."""
    if newest is None:
        return Predictions()
    clears = tuple(clears)
    bucket = _Buckets(newest)
    groups: dict[tuple[str, datetime], list[PredictionCount]] = defaultdict(list)
    for entry in counts:
        key = (entry.day, bucket(entry.observed))
        if not any(clear.covers(*key) for clear in clears):
            groups[key].append(entry)
    kept = []
    for (day, observed), entries in sorted(groups.items()):
        if len(entries) == 1 and entries[0].observed == observed:
            kept.append(entries[0])  # unchanged: most entries, most of the time
            continue
        count = sum(e.count for e in entries)
        last_at = max(e.last_at for e in entries)
        kept.append(PredictionCount(day=day, observed=observed, count=count, last_at=last_at))
    return Predictions(
        total=sum(e.count for e in kept),
        last_at=max((e.last_at for e in kept), default=None),
        newest_observation=newest,
        counts=tuple(kept),
    )
