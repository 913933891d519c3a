"""When a policy's trigger fires: the one piece of code the live service and the backtest both run. Pure.

Everything is judged by EVENT time (a health report's time, a schedule's due time), never by when the
service happens to look, so folding the same reports gives the same fires, live, replayed or backtested.

Health declines (data_drift_decline on DriftDetected, accuracy_decline on AccuracyChanged), comparing a
report with the previous reading of its dimension (none counts as passing):

    passing/none → warning              declined_to_warning   fires if status_declines_to_warning
    passing/none/warning → failing      declined_to_failing   fires if status_declines_to_failing
    warning → warning, failing → failing,
    failing → warning (better, still declined)  still_in_decline  fires if status_still_in_decline
    → passing                           nothing
    unknown / unavailable               no information: nothing fires and the previous reading stays
    a report older than the reading     stale (arrived late): nothing fires and the reading stays

A report before the policy existed (`active_from`) never fires it. Schedules fire at their cron due
times after `scheduled_through`. Automatic fires of a policy are at least `min_interval_between_runs`
apart (by event time); runs started by hand neither count nor wait.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.retraining.domain import cron
from services.retraining.domain.state import Reading, TriggerClock
from shared.contract.events.retraining import Cause, Trigger, TriggerType
from shared.contract.events.values import HealthStatus

DIMENSION: dict[TriggerType, str] = {
    TriggerType.DATA_DRIFT_DECLINE: "drift",
    TriggerType.ACCURACY_DECLINE: "accuracy",
}
"""The health dimension (HealthReport.dimension) each decline trigger watches."""

INFORMATIVE = frozenset({HealthStatus.PASSING, HealthStatus.WARNING, HealthStatus.FAILING})
_DECLINED = frozenset({HealthStatus.WARNING, HealthStatus.FAILING})
_JUST_BEFORE = timedelta(microseconds=1)
NEVER = datetime.max.replace(tzinfo=UTC)
"""Not before the end of time: what an interval too long for the calendar (the contract allows 999,999,999
days) throttles to, rather than overflowing the fold."""


def decline(previous: HealthStatus | None, current: HealthStatus) -> Cause | None:
    """What kind of decline `current` is after `previous`, or None if it is none."""
    if current not in _DECLINED:
        return None
    if previous is current or (previous is HealthStatus.FAILING and current is HealthStatus.WARNING):
        return Cause.STILL_IN_DECLINE
    return Cause.DECLINED_TO_FAILING if current is HealthStatus.FAILING else Cause.DECLINED_TO_WARNING


def switched_on(trigger: Trigger, cause: Cause) -> bool:
    return {
        Cause.DECLINED_TO_WARNING: trigger.status_declines_to_warning,
        Cause.DECLINED_TO_FAILING: trigger.status_declines_to_failing,
        Cause.STILL_IN_DECLINE: trigger.status_still_in_decline,
    }.get(cause, False)


def earliest_next_fire(trigger: Trigger, clock: TriggerClock) -> datetime | None:
    """The first event time the minimum interval lets the policy fire again (None: any time; `NEVER`
    for an interval that ends beyond the last instant a datetime holds)."""
    interval = trigger.min_interval_between_runs
    if clock.last_fired_at is None or interval is None or interval <= timedelta(0):
        return None
    if interval >= NEVER - clock.last_fired_at:
        return NEVER
    return clock.last_fired_at + interval


def throttled(trigger: Trigger, clock: TriggerClock, at: datetime) -> bool:
    earliest = earliest_next_fire(trigger, clock)
    return earliest is not None and at < earliest


def is_stale(reading: Reading | None, report: Reading) -> bool:
    return reading is not None and (report.at, report.event_id) <= (reading.at, reading.event_id)


def next_reading(reading: Reading | None, report: Reading) -> Reading | None:
    """The dimension's reading after `report`: the report, unless it is stale or says nothing."""
    if report.status not in INFORMATIVE or is_stale(reading, report):
        return reading
    return report


def on_report(
    trigger: Trigger, clock: TriggerClock, dimension: str, reading: Reading | None, report: Reading
) -> tuple[TriggerClock, Cause | None]:
    """Whether `report` (of `dimension`, after the dimension's `reading`) fires the policy, and its clock after."""
    if DIMENSION.get(trigger.type) != dimension or report.at < clock.active_from:
        return clock, None
    if report.status not in INFORMATIVE or is_stale(reading, report):
        return clock, None
    cause = decline(reading.status if reading else None, report.status)
    if cause is None or not switched_on(trigger, cause) or throttled(trigger, clock, report.at):
        return clock, None
    return clock.model_copy(update={"last_fired_at": report.at}), cause


def next_scheduled(trigger: Trigger, clock: TriggerClock) -> datetime | None:
    """The next due time a schedule policy may fire at (after the claimed ones, outside the interval)."""
    if trigger.type is not TriggerType.SCHEDULE or trigger.schedule is None:
        return None
    after = clock.scheduled_through
    earliest = earliest_next_fire(trigger, clock)
    if earliest is not None:
        after = max(after, earliest - _JUST_BEFORE)  # due times from `earliest` on (next_due is strictly after)
    try:
        return cron.next_due(trigger.schedule, after)
    except OverflowError:  # due only beyond the last day a datetime holds: never
        return None


def due_scheduled(trigger: Trigger, clock: TriggerClock, now: datetime) -> datetime | None:
    """The due time to start a run for at `now`: the latest one not yet claimed, so due times missed while
    nothing was looking (the service down) start one run, not one each."""
    first = next_scheduled(trigger, clock)
    if first is None or first > now or trigger.schedule is None:
        return None
    return cron.latest_due(trigger.schedule, now, not_before=first)


def may_start_scheduled(trigger: Trigger, clock: TriggerClock, due_at: datetime) -> bool:
    """Whether a run may start for `due_at`: a cron due time not claimed yet, outside the interval."""
    first = next_scheduled(trigger, clock)
    return (
        trigger.schedule is not None
        and first is not None
        and due_at >= first
        and cron.matches(trigger.schedule, due_at)
        and due_at == due_at.replace(second=0, microsecond=0)
    )


def on_scheduled(clock: TriggerClock, due_at: datetime) -> TriggerClock:
    return clock.model_copy(update={"scheduled_through": max(clock.scheduled_through, due_at), "last_fired_at": due_at})
