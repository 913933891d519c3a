"""The policy backtest: when would a draft trigger have fired over a deployment's past health reports? Pure.

It runs the live code, not a copy: the draft becomes a policy through `evolve` (created at `start`), the
reports are folded by `evolve` exactly as the live service folds them (so decline switches, the minimum
interval, stale and uninformative reports behave the same), and the fires are the pending fires the live
service would have turned into runs. Schedule triggers step through `triggers.next_scheduled` /
`on_scheduled`, as the live claims do. Nothing is trained or published.

Pass the reports in log order (the order the live service folded them) and include the last report
before `start` of each dimension: it is the baseline the first report in the range declines from.
Reports at or after `end` are left out; only reports from `start` on can fire.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime

from services.retraining.domain import triggers
from services.retraining.domain.evolve import evolve
from services.retraining.domain.state import RetrainingState
from shared.contract.events.monitoring import AccuracyChanged, DriftDetected
from shared.contract.events.retraining import Cause, RetrainingPolicyCreated, Trigger
from shared.contract.events.values import DeploymentStatus, HealthStatus
from shared.contract.messages import Event
from shared.domain.fold import utc_ms
from shared.domain.recorded import Recorded

DRAFT_POLICY_ID = "draft"
MAX_FIRES = 10_000
"""A schedule due every minute fires half a million times a year: the answer stops counting here."""


@dataclasses.dataclass(frozen=True, slots=True)
class Firing:
    at: datetime
    """The report's event time, or the schedule's due time."""
    cause: Cause
    report_event_id: str | None = None
    status: HealthStatus | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Backtest:
    start: datetime
    end: datetime
    fires: tuple[Firing, ...]
    truncated: bool = False
    """More than MAX_FIRES: `fires` holds the first ones."""

    @property
    def runs(self) -> int:
        """How many runs the policy would have started (one per fire; runs started by hand aside)."""
        return len(self.fires)


def backtest(
    deployment_id: str, trigger: Trigger, start: datetime, end: datetime, reports: Iterable[Recorded[Event]]
) -> Backtest:
    if end <= start:
        raise ValueError("the backtest range must end after it starts")
    draft = RetrainingPolicyCreated(
        deployment_id=deployment_id, policy_id=DRAFT_POLICY_ID, name="draft", trigger=trigger
    )
    state = RetrainingState(deployment_id=deployment_id, status=DeploymentStatus.ACTIVE)
    state = evolve(state, Recorded(message=draft, id="backtest-draft", time=start, subject=deployment_id))
    for report in reports:
        if isinstance(report.message, DriftDetected | AccuracyChanged) and utc_ms(report.time) < utc_ms(end):
            state = evolve(state, report)
    fires = [Firing(f.at, f.cause, f.report_event_id, f.status) for f in state.pending]
    policy = state.policy(DRAFT_POLICY_ID)
    assert policy is not None
    clock = policy.clock
    while len(fires) <= MAX_FIRES and (due := triggers.next_scheduled(trigger, clock)) is not None and due < end:
        fires.append(Firing(due, Cause.SCHEDULE))
        clock = triggers.on_scheduled(clock, due)
    fires.sort(key=lambda fire: fire.at)
    return Backtest(start=start, end=end, fires=tuple(fires[:MAX_FIRES]), truncated=len(fires) > MAX_FIRES)
