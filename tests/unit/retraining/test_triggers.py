"""Trigger evaluation: every decline switch, the minimum interval, stale and uninformative reports,
schedules; by event time only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.retraining.domain import triggers
from services.retraining.domain.state import Reading, TriggerClock
from shared.contract.events.retraining import Cause, Schedule, Trigger, TriggerType
from shared.contract.events.values import HealthStatus
from tests.unit.retraining.builders import at

P, W, F, U = HealthStatus.PASSING, HealthStatus.WARNING, HealthStatus.FAILING, HealthStatus.UNKNOWN
ALL_ON = Trigger(
    type=TriggerType.DATA_DRIFT_DECLINE,
    status_declines_to_warning=True,
    status_declines_to_failing=True,
    status_still_in_decline=True,
)
CLOCK = TriggerClock(active_from=at(0), scheduled_through=at(0))


def reading(status: HealthStatus, minutes: float, event_id: str = "r") -> Reading:
    return Reading(status=status, at=at(minutes), event_id=f"{event_id}-{minutes}")


@pytest.mark.parametrize(
    ("previous", "current", "cause"),
    [
        (None, W, Cause.DECLINED_TO_WARNING),
        (P, W, Cause.DECLINED_TO_WARNING),
        (None, F, Cause.DECLINED_TO_FAILING),
        (P, F, Cause.DECLINED_TO_FAILING),
        (W, F, Cause.DECLINED_TO_FAILING),
        (W, W, Cause.STILL_IN_DECLINE),
        (F, F, Cause.STILL_IN_DECLINE),
        (F, W, Cause.STILL_IN_DECLINE),
        (W, P, None),
        (F, P, None),
        (P, P, None),
        (None, P, None),
        (P, U, None),
    ],
)
def test_what_kind_of_decline_a_report_is(
    previous: HealthStatus | None, current: HealthStatus, cause: Cause | None
) -> None:
    assert triggers.decline(previous, current) == cause


@pytest.mark.parametrize(
    ("switch", "previous", "current"),
    [
        ("status_declines_to_warning", P, W),
        ("status_declines_to_failing", W, F),
        ("status_still_in_decline", W, W),
    ],
)
def test_each_switch_alone_decides_whether_its_decline_fires(
    switch: str, previous: HealthStatus, current: HealthStatus
) -> None:
    off = ALL_ON.model_copy(update={switch: False})
    only = Trigger(
        type=TriggerType.DATA_DRIFT_DECLINE,
        status_declines_to_warning=False,
        status_declines_to_failing=False,
        status_still_in_decline=False,
    ).model_copy(update={switch: True})
    before, report = reading(previous, 1), reading(current, 2)
    assert triggers.on_report(only, CLOCK, "drift", before, report)[1] is not None
    assert triggers.on_report(ALL_ON, CLOCK, "drift", before, report)[1] is not None
    assert triggers.on_report(off, CLOCK, "drift", before, report)[1] is None


def test_the_default_switches_fire_on_declines_but_not_while_still_declined() -> None:
    default = Trigger(type=TriggerType.DATA_DRIFT_DECLINE)
    assert triggers.on_report(default, CLOCK, "drift", reading(P, 1), reading(W, 2))[1] is Cause.DECLINED_TO_WARNING
    assert triggers.on_report(default, CLOCK, "drift", reading(W, 1), reading(F, 2))[1] is Cause.DECLINED_TO_FAILING
    assert triggers.on_report(default, CLOCK, "drift", reading(W, 1), reading(W, 2))[1] is None


def test_the_minimum_interval_is_measured_between_event_times() -> None:
    hourly = ALL_ON.model_copy(update={"min_interval_between_runs": timedelta(hours=1)})
    clock, cause = triggers.on_report(hourly, CLOCK, "drift", reading(P, 0), reading(W, 10))
    assert cause is Cause.DECLINED_TO_WARNING and clock.last_fired_at == at(10)
    assert triggers.on_report(hourly, clock, "drift", reading(W, 10), reading(F, 69))[1] is None
    clock_after, cause = triggers.on_report(hourly, clock, "drift", reading(W, 10), reading(F, 70))
    assert cause is Cause.DECLINED_TO_FAILING and clock_after.last_fired_at == at(70)


def test_a_throttled_report_does_not_move_the_interval() -> None:
    hourly = ALL_ON.model_copy(update={"min_interval_between_runs": timedelta(hours=1)})
    clock, _ = triggers.on_report(hourly, CLOCK, "drift", None, reading(W, 0))
    throttled, cause = triggers.on_report(hourly, clock, "drift", reading(W, 0), reading(W, 30))
    assert cause is None and throttled == clock


def test_no_interval_or_a_zero_one_never_throttles() -> None:
    for interval in (None, timedelta(0)):
        trigger = ALL_ON.model_copy(update={"min_interval_between_runs": interval})
        clock, _ = triggers.on_report(trigger, CLOCK, "drift", None, reading(W, 0))
        assert triggers.on_report(trigger, clock, "drift", reading(W, 0), reading(W, 0.01))[1] is not None


def test_a_stale_report_neither_fires_nor_becomes_the_reading() -> None:
    latest = reading(P, 10)
    late = reading(F, 5)
    assert triggers.on_report(ALL_ON, CLOCK, "drift", latest, late)[1] is None
    assert triggers.next_reading(latest, late) == latest


@pytest.mark.parametrize("status", [HealthStatus.UNKNOWN, HealthStatus.UNAVAILABLE])
def test_an_uninformative_report_fires_nothing_and_keeps_the_reading(status: HealthStatus) -> None:
    previous = reading(P, 1)
    assert triggers.on_report(ALL_ON, CLOCK, "drift", previous, reading(status, 2))[1] is None
    assert triggers.next_reading(previous, reading(status, 2)) == previous
    # so passing → unknown → warning is a decline to warning
    assert triggers.on_report(ALL_ON, CLOCK, "drift", previous, reading(W, 3))[1] is Cause.DECLINED_TO_WARNING


def test_reports_before_the_policy_existed_and_of_another_dimension_never_fire() -> None:
    later = TriggerClock(active_from=at(60), scheduled_through=at(60))
    assert triggers.on_report(ALL_ON, later, "drift", None, reading(F, 59))[1] is None
    assert triggers.on_report(ALL_ON, later, "drift", None, reading(F, 60))[1] is not None
    assert triggers.on_report(ALL_ON, CLOCK, "accuracy", None, reading(F, 1))[1] is None
    on_accuracy = ALL_ON.model_copy(update={"type": TriggerType.ACCURACY_DECLINE})
    assert triggers.on_report(on_accuracy, CLOCK, "accuracy", None, reading(F, 1))[1] is not None


def test_schedule_due_times_respect_claims_and_the_minimum_interval() -> None:
    every_ten = Trigger(type=TriggerType.SCHEDULE, schedule=Schedule(minute=(0, 10, 20, 30, 40, 50)))
    assert triggers.next_scheduled(every_ten, CLOCK) == at(10)
    claimed = triggers.on_scheduled(CLOCK, at(10))
    assert triggers.next_scheduled(every_ten, claimed) == at(20)
    slower = every_ten.model_copy(update={"min_interval_between_runs": timedelta(minutes=25)})
    assert triggers.next_scheduled(slower, claimed) == at(40)  # 35 at the earliest, then the next due time
    assert triggers.may_start_scheduled(slower, claimed, at(40))
    assert not triggers.may_start_scheduled(slower, claimed, at(30))
    assert not triggers.may_start_scheduled(slower, claimed, at(41))  # not on the schedule


def test_due_times_missed_start_one_run_for_the_latest() -> None:
    every_ten = Trigger(type=TriggerType.SCHEDULE, schedule=Schedule(minute=(0, 10, 20, 30, 40, 50)))
    assert triggers.due_scheduled(every_ten, CLOCK, at(9)) is None
    assert triggers.due_scheduled(every_ten, CLOCK, at(10)) == at(10)
    assert triggers.due_scheduled(every_ten, CLOCK, at(55)) == at(50)
