"""Cron matching and due times, in UTC, at the edges: ends of months, leap days, years, weekdays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pydantic
import pytest

from services.retraining.domain import cron
from shared.contract.events.retraining import Schedule


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def test_empty_fields_mean_every_minute() -> None:
    assert cron.matches(Schedule(), utc(2026, 5, 17, 13, 41))
    assert cron.next_due(Schedule(), utc(2026, 5, 17, 13, 41, 30)) == utc(2026, 5, 17, 13, 42)


def test_due_is_strictly_after_and_to_the_minute() -> None:
    nightly = Schedule(minute=(30,), hour=(2,))
    assert cron.next_due(nightly, utc(2026, 1, 1, 2, 29, 59)) == utc(2026, 1, 1, 2, 30)
    assert cron.next_due(nightly, utc(2026, 1, 1, 2, 30)) == utc(2026, 1, 2, 2, 30)
    assert cron.next_due(nightly, utc(2026, 1, 1, 2, 30, 0, 1)) == utc(2026, 1, 2, 2, 30)


def test_the_31st_skips_months_without_one() -> None:
    monthly = Schedule(minute=(0,), hour=(0,), day_of_month=(31,))
    assert cron.next_due(monthly, utc(2026, 3, 31, 0, 0)) == utc(2026, 5, 31)
    assert cron.next_due(monthly, utc(2026, 1, 31, 0, 0)) == utc(2026, 3, 31)


def test_the_29th_of_february_waits_for_a_leap_year() -> None:
    leap_day = Schedule(minute=(0,), hour=(12,), day_of_month=(29,), month=(2,))
    assert cron.next_due(leap_day, utc(2026, 3, 1)) == utc(2028, 2, 29, 12)


def test_a_year_rolls_over() -> None:
    new_year = Schedule(minute=(0,), hour=(0,), day_of_month=(1,), month=(1,))
    assert cron.next_due(new_year, utc(2026, 12, 31, 23, 59)) == utc(2027, 1, 1)
    assert cron.next_due(Schedule(), utc(2026, 12, 31, 23, 59)) == utc(2027, 1, 1)


def test_day_of_week_counts_from_sunday() -> None:
    sundays = Schedule(minute=(0,), hour=(9,), day_of_week=(0,))
    assert cron.next_due(sundays, utc(2026, 1, 1)) == utc(2026, 1, 4, 9)  # 2026-01-04 is a Sunday
    saturdays = Schedule(minute=(0,), hour=(9,), day_of_week=(6,))
    assert cron.next_due(saturdays, utc(2026, 1, 4, 9)) == utc(2026, 1, 10, 9)


def test_day_of_month_and_day_of_week_together_match_either_as_in_cron() -> None:
    thirteenth_or_friday = Schedule(minute=(0,), hour=(0,), day_of_month=(13,), day_of_week=(5,))
    assert cron.matches(thirteenth_or_friday, utc(2026, 1, 13))  # a Tuesday, the 13th
    assert cron.matches(thirteenth_or_friday, utc(2026, 1, 16))  # a Friday, the 16th
    assert not cron.matches(thirteenth_or_friday, utc(2026, 1, 14))
    assert cron.next_due(thirteenth_or_friday, utc(2026, 1, 13)) == utc(2026, 1, 16)


def test_a_schedule_that_is_never_due_has_no_next_time() -> None:
    thirtieth_of_february = Schedule(day_of_month=(30,), month=(2,))
    assert cron.next_due(thirtieth_of_february, utc(2026, 1, 1)) is None
    assert not cron.ever_due(thirtieth_of_february, utc(2026, 1, 1))


def test_moments_in_other_zones_are_read_in_utc() -> None:
    nightly = Schedule(minute=(0,), hour=(2,))
    paris = timezone(timedelta(hours=1))
    assert cron.matches(nightly, datetime(2026, 1, 1, 3, 0, tzinfo=paris))
    assert cron.next_due(nightly, datetime(2026, 1, 1, 2, 0, tzinfo=paris)) == utc(2026, 1, 1, 2)


def test_latest_due_coalesces_missed_times_and_respects_the_floor() -> None:
    hourly = Schedule(minute=(15,))
    assert cron.latest_due(hourly, utc(2026, 1, 1, 5, 14), not_before=utc(2026, 1, 1, 1)) == utc(2026, 1, 1, 4, 15)
    assert cron.latest_due(hourly, utc(2026, 1, 1, 5, 15), not_before=utc(2026, 1, 1, 1)) == utc(2026, 1, 1, 5, 15)
    assert cron.latest_due(hourly, utc(2026, 1, 1, 5, 14), not_before=utc(2026, 1, 1, 4, 16)) is None
    month_end = Schedule(minute=(0,), hour=(0,), day_of_month=(31,))
    assert cron.latest_due(month_end, utc(2026, 5, 30), not_before=utc(2026, 1, 1)) == utc(2026, 3, 31)


@pytest.mark.parametrize(
    "schedule",
    [
        Schedule(minute=(0, 30), hour=(23,)),
        Schedule(minute=(59,), day_of_month=(28, 29, 30, 31)),
        Schedule(minute=(5,), hour=(0, 12), day_of_week=(1, 3)),
        Schedule(minute=(0,), hour=(0,), day_of_month=(1,), day_of_week=(0,)),
    ],
)
def test_next_and_latest_due_agree_with_checking_every_minute(schedule: Schedule) -> None:
    start = utc(2026, 2, 26)
    minutes = [start + timedelta(minutes=m) for m in range(6 * 24 * 60)]  # over a month end and a weekend
    due = [m for m in minutes if cron.matches(schedule, m)]
    assert due, "the window must hold due times"
    assert cron.next_due(schedule, start - timedelta(seconds=1)) == due[0]
    for earlier, later in pairwise(due):
        assert cron.next_due(schedule, earlier) == later
        assert cron.latest_due(schedule, later - timedelta(seconds=1), not_before=start) == earlier


@pytest.mark.parametrize(
    "fields",
    [{"minute": (60,)}, {"hour": (24,)}, {"day_of_month": (0,)}, {"month": (13,)}, {"day_of_week": (7,)}],
)
def test_fields_out_of_range_are_refused(fields: dict[str, tuple[int, ...]]) -> None:
    with pytest.raises(pydantic.ValidationError):
        Schedule.model_validate(fields)
