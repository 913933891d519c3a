"""Cron schedules in UTC, to the minute: does a moment match, and when is a schedule next (or last) due. Pure.

Fields as in cron: minute 0-59, hour 0-23, day of month 1-31, month 1-12, day of week 0-6 (0 = Sunday);
an empty field means every value. When both day of month and day of week are restricted, a day matches
if EITHER does (cron's rule: "the 1st and every Monday"); when one is, that one decides.

A schedule may never be due ("31 February"): the search looks `HORIZON_DAYS` ahead (eight years, so a
29 February is always within reach) and answers None beyond; policies with such a schedule are refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from shared.contract.events.retraining import Schedule

HORIZON_DAYS = 8 * 366
MINUTE = timedelta(minutes=1)


def cron_weekday(day: date) -> int:
    """0 = Sunday … 6 = Saturday (Python's Monday = 0 shifted)."""
    return (day.weekday() + 1) % 7


def day_matches(schedule: Schedule, day: date) -> bool:
    if schedule.month and day.month not in schedule.month:
        return False
    by_date = day.day in schedule.day_of_month
    by_weekday = cron_weekday(day) in schedule.day_of_week
    if schedule.day_of_month and schedule.day_of_week:
        return by_date or by_weekday
    if schedule.day_of_month:
        return by_date
    if schedule.day_of_week:
        return by_weekday
    return True


def matches(schedule: Schedule, moment: datetime) -> bool:
    """Whether the minute `moment` falls in is one the schedule is due at."""
    moment = moment.astimezone(UTC)
    return (
        day_matches(schedule, moment.date())
        and (not schedule.hour or moment.hour in schedule.hour)
        and (not schedule.minute or moment.minute in schedule.minute)
    )


def _hours_and_minutes(schedule: Schedule) -> tuple[list[int], list[int]]:
    return sorted(set(schedule.hour)) or list(range(24)), sorted(set(schedule.minute)) or list(range(60))


def _first_time(schedule: Schedule, at_or_after: time) -> time | None:
    """The first due time of a day at or after `at_or_after`."""
    hours, minutes = _hours_and_minutes(schedule)
    for hour in hours:
        if hour < at_or_after.hour:
            continue
        for minute in minutes:
            if hour > at_or_after.hour or minute >= at_or_after.minute:
                return time(hour, minute)
    return None


def _last_time(schedule: Schedule, at_or_before: time) -> time | None:
    """The last due time of a day at or before `at_or_before`."""
    hours, minutes = _hours_and_minutes(schedule)
    for hour in reversed(hours):
        if hour > at_or_before.hour:
            continue
        for minute in reversed(minutes):
            if hour < at_or_before.hour or minute <= at_or_before.minute:
                return time(hour, minute)
    return None


def _minute_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _days(first: date, step: int) -> Iterator[date]:
    for offset in range(HORIZON_DAYS + 1):
        yield first + timedelta(days=offset * step)


def next_due(schedule: Schedule, after: datetime) -> datetime | None:
    """The first due minute strictly after `after`, or None within the horizon."""
    start = _minute_of(after) + MINUTE
    for day in _days(start.date(), 1):
        if day_matches(schedule, day):
            found = _first_time(schedule, start.time() if day == start.date() else time(0, 0))
            if found is not None:
                return datetime.combine(day, found, tzinfo=UTC)
    return None


def latest_due(schedule: Schedule, at_or_before: datetime, *, not_before: datetime) -> datetime | None:
    """The last due minute in [not_before, at_or_before], or None."""
    end = _minute_of(at_or_before)
    floor = not_before.astimezone(UTC)
    for day in _days(end.date(), -1):
        if day < floor.date():
            return None
        if day_matches(schedule, day):
            found = _last_time(schedule, end.time() if day == end.date() else time(23, 59))
            if found is not None:
                candidate = datetime.combine(day, found, tzinfo=UTC)
                return candidate if candidate >= floor else None
    return None


def ever_due(schedule: Schedule, after: datetime) -> bool:
    return next_due(schedule, after) is not None
