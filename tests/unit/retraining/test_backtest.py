"""The policy backtest answers what the live service fired over the same events."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from services.retraining.domain.backtest import MAX_FIRES, Firing, backtest
from shared.contract import events as ev
from shared.contract.events.retraining import Cause, ModelAction, Schedule, Trigger, TriggerType
from shared.contract.events.values import HealthStatus
from shared.contract.messages import Event
from shared.domain.recorded import Recorded
from tests.unit.retraining.builders import NIGHTLY, D, Live, accuracy, at, drift, policy_created, recorded, team

STATUSES = [HealthStatus.PASSING, HealthStatus.WARNING, HealthStatus.FAILING, HealthStatus.UNKNOWN]


def reports(seed: int, count: int = 80) -> list[Recorded[Event]]:
    """Drift and accuracy reports every 20 to 60 minutes, statuses drawn with a fixed seed."""
    rng = random.Random(seed)
    minutes, out = 0.0, []
    for n in range(count):
        minutes += rng.choice([20, 30, 45, 60])
        status = rng.choices(STATUSES, weights=[4, 3, 2, 1])[0]
        report = drift(status) if rng.random() < 0.7 else accuracy(status)
        out.append(recorded(report, at(minutes), f"report-{seed}-{n}"))
    return out


def live_fires(trigger: Trigger, history: list[Recorded[Event]]) -> list[Firing]:
    """Fold the reports into the live service, ticking its loop at each report, as the wiring would."""
    live = Live(*team(), policy_created("p-1", trigger, ModelAction.CREATE_MODEL_PACKAGE))
    for report in history:
        live.hear(report.message, report.time, report.id)
        live.tick(report.time)
    return [
        Firing(e.triggered_at, e.cause, e.cause_event_id, e.cause_status) for e in live.of_type(ev.RetrainingRunStarted)
    ]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "trigger",
    [
        Trigger(type=TriggerType.DATA_DRIFT_DECLINE),
        Trigger(
            type=TriggerType.DATA_DRIFT_DECLINE,
            status_still_in_decline=True,
            min_interval_between_runs=timedelta(hours=3),
        ),
        Trigger(
            type=TriggerType.ACCURACY_DECLINE,
            status_declines_to_warning=False,
            status_still_in_decline=True,
            min_interval_between_runs=timedelta(hours=1),
        ),
    ],
    ids=["drift-defaults", "drift-still-3h", "accuracy-failing-still-1h"],
)
def test_a_backtest_fires_exactly_what_the_live_service_fired(seed: int, trigger: Trigger) -> None:
    history = reports(seed)
    live = live_fires(trigger, history)
    answer = backtest(D, trigger, at(0), at(10_000), history)
    assert live, "the scenario must fire at least once"
    assert list(answer.fires) == live and answer.runs == len(live)


def test_a_schedule_backtest_fires_where_the_live_loop_started_runs() -> None:
    nightly_at_most_every_36h = NIGHTLY.model_copy(update={"min_interval_between_runs": timedelta(hours=36)})
    live = Live(*team(), policy_created("p-1", nightly_at_most_every_36h, ModelAction.CREATE_MODEL_PACKAGE))
    for minutes in range(0, 7 * 24 * 60, 5):
        live.tick(at(minutes))
    started = [(e.triggered_at, e.cause) for e in live.of_type(ev.RetrainingRunStarted)]
    answer = backtest(D, nightly_at_most_every_36h, at(0), at(7 * 24 * 60), [])
    assert [(f.at, f.cause) for f in answer.fires] == started
    assert started == [(at(d * 24 * 60 + 120), Cause.SCHEDULE) for d in (0, 2, 4, 6)]


def test_reports_before_the_range_are_the_baseline_and_after_it_are_left_out() -> None:
    history = [
        recorded(drift(HealthStatus.WARNING), at(-10), "before"),
        recorded(drift(HealthStatus.WARNING), at(10), "inside"),
        recorded(drift(HealthStatus.FAILING), at(20), "inside-2"),
        recorded(drift(HealthStatus.FAILING), at(70), "after"),
    ]
    trigger = Trigger(type=TriggerType.DATA_DRIFT_DECLINE, status_declines_to_warning=True)
    answer = backtest(D, trigger, at(0), at(60), history)
    assert [(f.report_event_id, f.cause) for f in answer.fires] == [("inside-2", Cause.DECLINED_TO_FAILING)]


def test_a_manual_policy_never_fires_and_a_busy_schedule_is_cut_short() -> None:
    assert backtest(D, Trigger(type=TriggerType.MANUAL), at(0), at(600), reports(1)).runs == 0
    every_minute = Trigger(type=TriggerType.SCHEDULE, schedule=Schedule())
    answer = backtest(D, every_minute, at(0), at(30 * 24 * 60), [])
    assert answer.truncated and answer.runs == MAX_FIRES


def test_the_range_must_be_a_range() -> None:
    with pytest.raises(ValueError, match="must end after it starts"):
        backtest(D, NIGHTLY, at(10), at(10), [])


def test_replaying_the_log_rebuilds_the_live_state_and_fires_nothing_more() -> None:
    trigger = Trigger(type=TriggerType.DATA_DRIFT_DECLINE, status_still_in_decline=True)
    live = Live(*team(), policy_created("p-1", trigger, ModelAction.CREATE_MODEL_PACKAGE))
    for report in reports(3):
        live.hear(report.message, report.time, report.id)
        live.tick(report.time)
    replayed = live.decider.fold(live.decider.initial(D), live.log)
    assert replayed == live.state and replayed.pending == ()
