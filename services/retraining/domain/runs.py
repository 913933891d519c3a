"""The run state machine: which step may follow which, where a run may finish, when it may be canceled. Pure.

    queued → preparing_data → training → registering_package → creating_challenger   → succeeded
                                                              → replacing_model       → succeeded
                                                              → registering_only      → succeeded
    any step → failed;   queued, preparing_data, training, registering_package → canceled

creating_challenger and replacing_model may be entered again (the replacement service is asked once more
after `package-unknown`). Finished runs (succeeded, failed, canceled) never change. At most one run of a
deployment is past `queued` at a time; the others wait in start order.
"""

from __future__ import annotations

from services.retraining.domain import codes
from services.retraining.domain.state import Run
from shared.contract.events.retraining import ModelAction, RunStep, TriggerType
from shared.contract.events.values import ReplacementReason
from shared.domain.decider import Rejection

S = RunStep
NEXT: dict[RunStep, frozenset[RunStep]] = {
    S.QUEUED: frozenset({S.PREPARING_DATA}),
    S.PREPARING_DATA: frozenset({S.TRAINING}),
    S.TRAINING: frozenset({S.REGISTERING_PACKAGE}),
    S.REGISTERING_PACKAGE: frozenset({S.CREATING_CHALLENGER, S.REPLACING_MODEL, S.REGISTERING_ONLY}),
    S.CREATING_CHALLENGER: frozenset({S.CREATING_CHALLENGER}),
    S.REPLACING_MODEL: frozenset({S.REPLACING_MODEL}),
    S.REGISTERING_ONLY: frozenset(),
}
SUCCEEDS_FROM = frozenset({S.CREATING_CHALLENGER, S.REPLACING_MODEL, S.REGISTERING_ONLY})
CANCELABLE = frozenset({S.QUEUED, S.PREPARING_DATA, S.TRAINING, S.REGISTERING_PACKAGE})
ASKS_REPLACEMENT = frozenset({S.CREATING_CHALLENGER, S.REPLACING_MODEL})
"""Steps that wait for the replacement service's answer."""

ACTION_STEP: dict[ModelAction, RunStep] = {
    ModelAction.MODEL_REPLACEMENT: S.REPLACING_MODEL,
    ModelAction.CREATE_CHALLENGER: S.CREATING_CHALLENGER,
    ModelAction.CREATE_MODEL_PACKAGE: S.REGISTERING_ONLY,
}
REPLACEMENT_REASON: dict[TriggerType, ReplacementReason] = {
    TriggerType.DATA_DRIFT_DECLINE: ReplacementReason.DATA_DRIFT,
    TriggerType.ACCURACY_DECLINE: ReplacementReason.ACCURACY,
    TriggerType.SCHEDULE: ReplacementReason.SCHEDULED_REFRESH,
    TriggerType.MANUAL: ReplacementReason.OTHER,
}
"""The reason a run's replacement gives, from what started the run (a run started by hand: OTHER)."""


class IllegalTransition(ValueError):
    """A decision tried a move the state machine forbids: a bug in decide, never a caller's mistake."""


def can_move(step: RunStep, to: RunStep) -> bool:
    return to in NEXT[step]


def check_move(run: Run, to: RunStep) -> None:
    if not run.running or not can_move(run.step, to):
        raise IllegalTransition(f"run {run.id} cannot go from {run.status}/{run.step} to {to}")


def can_succeed(run: Run) -> bool:
    return run.running and run.step in SUCCEEDS_FROM


def cancel_refusal(run: Run) -> Rejection | None:
    """None when the run may be canceled now; else why not."""
    if not run.running:
        return Rejection(codes.RUN_FINISHED, f"run {run.id} has {run.status} already")
    if run.step not in CANCELABLE:
        return Rejection(
            codes.RUN_PAST_CANCEL_POINT, f"run {run.id} is {run.step.replace('_', ' ')}: it can no longer be canceled"
        )
    return None
