"""How events change the retraining service's view of a deployment. Pure: no I/O, no clock.

Folded, besides the service's own events (when they are decided):
- deployment stream: creation (the first stands; its creator and owners are OWNERs, its model the
  champion), status (deleted only gives way to erased, which leaves a tombstone), shares and revocations,
  `ModelReplaced` (the new champion); and the replacement service's answers to a run's ReplaceModel /
  AddChallenger, matched by the ids derived from the run's ask: `ModelReplaced`/`ModelReplacementRejected`
  by causation id or change request id, `ChallengerAdded` by challenger id, `CommandRejected` by command
  id, `ChangeRequestOpened`/`Rejected`/`Canceled`/`Expired` by change request id;
- monitoring stream: `DriftDetected` and `AccuracyChanged`, through `triggers` (by event time): a report
  that fires a decline policy adds a pending `Fire`;
- training-jobs stream: the trainer's answer, kept on its run if the run is still training.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.retraining.domain import triggers
from services.retraining.domain.runs import ASKS_REPLACEMENT
from services.retraining.domain.state import (
    ActionAnswer,
    Fire,
    Grant,
    Policy,
    Reading,
    RetrainingState,
    Run,
    Settings,
    TrainedModel,
    TrainingAnswer,
    TriggerClock,
)
from shared.contract import events as ev
from shared.contract.envelope import derived_id
from shared.contract.events.retraining import (
    Cause,
    ModelAction,
    ModelingStrategy,
    ModelSelection,
    RunStatus,
    RunStep,
    TriggerType,
)
from shared.contract.events.values import DeploymentStatus, HealthStatus, Role
from shared.contract.messages import Event
from shared.domain.fold import utc_ms
from shared.domain.lifecycle import STATUS_EVENTS, status_after, with_status
from shared.domain.recorded import Recorded

RUNS_KEPT = 50
"""Finished runs kept in the state (the newest); runs in progress are always kept."""
TRAINED_KEPT = 20

_CHANGE_REQUEST_CLOSED: dict[type[Any], str] = {
    ev.ChangeRequestRejected: "change-request-rejected",
    ev.ChangeRequestCanceled: "change-request-canceled",
    ev.ChangeRequestExpired: "change-request-expired",
}

FOLDED: tuple[type[Event], ...] = (
    ev.DeploymentCreated,
    *STATUS_EVENTS,
    ev.DeploymentShared,
    ev.DeploymentAccessRevoked,
    ev.ModelReplaced,
    ev.ModelReplacementRejected,
    ev.ChallengerAdded,
    ev.CommandRejected,
    ev.ChangeRequestOpened,
    *_CHANGE_REQUEST_CLOSED,
    ev.DriftDetected,
    ev.AccuracyChanged,
    ev.RetrainingSettingsChanged,
    ev.RetrainingPolicyCreated,
    ev.RetrainingPolicyUpdated,
    ev.RetrainingPolicyDeleted,
    ev.RetrainingRunStarted,
    ev.RetrainingRunStepChanged,
    ev.RetrainingRunSucceeded,
    ev.RetrainingRunFailed,
    ev.RetrainingRunCanceled,
    ev.TrainingRequested,
    ev.TrainingSucceeded,
    ev.TrainingFailed,
)
"""The event types that change the state (the registry must parse them)."""


def evolve(state: RetrainingState, event: Recorded[Event]) -> RetrainingState:
    message = event.message
    if isinstance(message, ev.DeploymentCreated):
        return _created(state, message)
    if not state.exists or state.status is DeploymentStatus.ERASED:
        return state
    if isinstance(message, STATUS_EVENTS):
        status = status_after(state.status, message)
        return with_status(state, status) if status is not None else state
    if isinstance(message, ev.DeploymentShared):
        grant = Grant(principal=message.principal, principal_type=message.principal_type, role=message.role)
        return state.model_copy(update={"grants": (*_without(state.grants, message.principal), grant)})
    if isinstance(message, ev.DeploymentAccessRevoked):
        return state.model_copy(update={"grants": _without(state.grants, message.principal)})
    if isinstance(message, ev.ModelReplaced):  # the new champion; and maybe the answer to a run's ask
        state = state.model_copy(update={"champion": message.model_package})
    if isinstance(message, ev.DriftDetected | ev.AccuracyChanged):
        return observe_report(state, message.dimension, reading_of(event))
    if isinstance(message, ev.RetrainingSettingsChanged):
        settings = Settings(
            retraining_user=message.retraining_user,
            dataset_id=message.dataset_id,
            prediction_environment_id=message.prediction_environment_id,
        )
        return state.model_copy(update={"settings": settings})
    if isinstance(message, ev.RetrainingPolicyCreated):  # and RetrainingPolicyUpdated, its subclass
        return _policy_defined(state, message, event)
    if isinstance(message, ev.RetrainingPolicyDeleted):
        policies = tuple(p for p in state.policies if p.id != message.policy_id)
        pending = tuple(f for f in state.pending if f.policy_id != message.policy_id)
        return state.model_copy(update={"policies": policies, "pending": pending})
    if isinstance(message, ev.RetrainingRunStarted):
        return _run_started(state, message, event)
    return _run_event(state, message, event)


def reading_of(event: Recorded[Event]) -> Reading:
    """A health report as trigger evaluation sees it (its status at its event time)."""
    status = getattr(event.message, "status", HealthStatus.UNKNOWN)
    return Reading(status=status, at=utc_ms(event.time), event_id=event.id)


def observe_report(state: RetrainingState, dimension: str, report: Reading) -> RetrainingState:
    """Evaluate every policy's trigger on `report`, then take it as the dimension's reading. The backtest
    runs exactly this (through `evolve`)."""
    if state.status is DeploymentStatus.DELETED:
        return state
    reading = state.health.get(dimension)
    policies, fires = [], list(state.pending)
    for policy in state.policies:
        clock, cause = triggers.on_report(policy.trigger, policy.clock, dimension, reading, report)
        policies.append(policy.model_copy(update={"clock": clock}))
        if cause is not None:
            fires.append(
                Fire(
                    policy_id=policy.id,
                    trigger=policy.trigger.type,
                    cause=cause,
                    status=report.status,
                    at=report.at,
                    report_event_id=report.event_id,
                )
            )
    health = dict(state.health)
    if (after := triggers.next_reading(reading, report)) is not None:
        health[dimension] = after
    return state.model_copy(update={"policies": tuple(policies), "pending": tuple(fires), "health": health})


def _created(state: RetrainingState, e: ev.DeploymentCreated) -> RetrainingState:
    if state.exists:
        return state  # the first creation stands
    owners = dict.fromkeys([e.created_by, *e.owners])
    return state.model_copy(
        update={
            "status": e.status,
            "grants": tuple(Grant(principal=owner, role=Role.OWNER) for owner in owners),
            "champion": e.model_package,
            "prediction_environment_id": e.prediction_environment.id,
        }
    )


def _without(grants: tuple[Grant, ...], principal: str) -> tuple[Grant, ...]:
    return tuple(g for g in grants if g.principal != principal)


def _policy_defined(state: RetrainingState, e: ev.RetrainingPolicyCreated, event: Recorded[Event]) -> RetrainingState:
    at = utc_ms(event.time)
    current = state.policy(e.policy_id)
    created = not isinstance(e, ev.RetrainingPolicyUpdated)
    if (current is None) != created:
        return state  # created twice, or an update of a policy that is gone
    clock = TriggerClock(active_from=at, scheduled_through=at)
    if current is not None:
        clock = current.clock
        if current.trigger != e.trigger:  # a new trigger judges only what happens from now on
            clock = clock.model_copy(update={"active_from": at, "scheduled_through": max(clock.scheduled_through, at)})
    policy = Policy(
        id=e.policy_id,
        name=e.name,
        description=e.description,
        trigger=e.trigger,
        model_selection=e.model_selection,
        model_action=e.model_action,
        modeling_strategy=e.modeling_strategy,
        created_at=current.created_at if current else at,
        updated_at=at,
        clock=clock,
    )
    others = tuple(p for p in state.policies if p.id != e.policy_id)
    return state.model_copy(update={"policies": (*others, policy) if created else _replaced(state.policies, policy)})


def _replaced(policies: tuple[Policy, ...], policy: Policy) -> tuple[Policy, ...]:
    return tuple(policy if p.id == policy.id else p for p in policies)


def run_of(e: ev.RetrainingRunStarted, at: datetime) -> Run:
    """The run a `RetrainingRunStarted` recorded at `at` starts (decide builds the same one to begin it)."""
    return Run(
        id=e.run_id,
        policy_id=e.policy_id,
        trigger=e.trigger,
        cause=e.cause or Cause.MANUAL,
        triggered_at=utc_ms(e.triggered_at or e.started_at),
        cause_event_id=e.cause_event_id,
        cause_status=e.cause_status,
        started_at=utc_ms(e.started_at),
        started_by=e.acting_as,
        model_selection=e.model_selection or ModelSelection.AUTOPILOT_RECOMMENDED,
        model_action=e.model_action or ModelAction.CREATE_CHALLENGER,
        modeling_strategy=e.modeling_strategy or ModelingStrategy.SAME_AS_CHAMPION,
        step_at=utc_ms(at),
    )


def _run_started(state: RetrainingState, e: ev.RetrainingRunStarted, event: Recorded[Event]) -> RetrainingState:
    if state.run(e.run_id) is not None:
        return state
    update: dict[str, Any] = {"runs": _pruned((*state.runs, run_of(e, event.time)))}
    if e.cause_event_id is not None:
        update["pending"] = tuple(
            f for f in state.pending if (f.policy_id, f.report_event_id) != (e.policy_id, e.cause_event_id)
        )
    policy = state.policy(e.policy_id)
    if policy is not None and e.trigger is TriggerType.SCHEDULE and e.triggered_at is not None:
        scheduled = policy.model_copy(update={"clock": triggers.on_scheduled(policy.clock, utc_ms(e.triggered_at))})
        update["policies"] = _replaced(state.policies, scheduled)
    return state.model_copy(update=update)


def _pruned(runs: tuple[Run, ...]) -> tuple[Run, ...]:
    """Every run in progress and the newest `RUNS_KEPT` finished ones, in start order."""
    finished = [r for r in runs if not r.running]
    dropped = {r.id for r in finished[: max(0, len(finished) - RUNS_KEPT)]}
    return tuple(r for r in runs if r.id not in dropped)


def _with_run(state: RetrainingState, run: Run) -> RetrainingState:
    return state.model_copy(update={"runs": _pruned(tuple(run if r.id == run.id else r for r in state.runs))})


def _run_event(state: RetrainingState, message: Event, event: Recorded[Event]) -> RetrainingState:
    """The run events and the answers (trainer, replacement service) that concern one run."""
    run_id = getattr(message, "run_id", None)
    if run_id is not None:
        run = state.run(run_id)
        if run is None or not run.running:
            return state  # finished runs never change; an answer after a timeout or a cancel is ignored
        changed = _run_changed(state, run, message, event)
        return state if changed is None else changed
    for run in state.runs:
        if run.running and run.step in ASKS_REPLACEMENT and run.action_command_id is not None:
            update = _action_answer(run, run.action_command_id, message, event)
            if update:
                return _with_run(state, run.model_copy(update=update))
    return state


def _run_changed(state: RetrainingState, run: Run, message: Event, event: Recorded[Event]) -> RetrainingState | None:
    at = utc_ms(event.time)
    if isinstance(message, ev.RetrainingRunStepChanged):
        return _with_run(state, _stepped(run, message, event))
    if isinstance(message, ev.TrainingRequested):
        return _with_run(state, run.model_copy(update={"deadline": utc_ms(message.deadline)}))
    if isinstance(message, ev.RetrainingRunSucceeded):
        update: dict[str, Any] = {
            "status": RunStatus.SUCCEEDED,
            "model_package_id": message.model_package_id or run.model_package_id,
            "challenger_id": message.challenger_id,
            "metrics": message.metrics or run.metrics,
        }
    elif isinstance(message, ev.RetrainingRunFailed):
        update = {"status": RunStatus.FAILED, "error": message.error, "error_code": message.code}
    elif isinstance(message, ev.RetrainingRunCanceled):
        update = {"status": RunStatus.CANCELED, "canceled_by": message.canceled_by}
    elif isinstance(message, ev.TrainingSucceeded | ev.TrainingFailed):
        return _trainer_answered(state, run, message, event)
    else:
        return None
    finished_at = utc_ms(getattr(message, "finished_at", at))
    return _with_run(state, run.model_copy(update={**update, "finished_at": finished_at}))


def _stepped(run: Run, e: ev.RetrainingRunStepChanged, event: Recorded[Event]) -> Run:
    try:
        step = RunStep(e.step)
    except ValueError:
        return run  # a step this version does not know: shown by others, ignored here
    update: dict[str, Any] = {"step": step, "step_at": utc_ms(event.time)}
    if e.model_package_id is not None:
        update["model_package_id"] = e.model_package_id
    if step in ASKS_REPLACEMENT:
        update |= {
            "action_attempt": e.attempt,
            "action_command_id": derived_id(event.id, "model-action"),
            "action_actor": e.acting_as,
            "action_reason": e.replacement_reason,
            "action_environment_id": e.prediction_environment_id,
            "change_request_id": None,
            "action_answer": None,
        }
    return run.model_copy(update=update)


def _trainer_answered(
    state: RetrainingState, run: Run, e: ev.TrainingSucceeded | ev.TrainingFailed, event: Recorded[Event]
) -> RetrainingState:
    if run.step is not RunStep.TRAINING or run.answer is not None:
        return state
    at = utc_ms(event.time)
    if isinstance(e, ev.TrainingFailed):
        answer = TrainingAnswer(succeeded=False, error=e.error, at=at, event_id=event.id)
        return _with_run(state, run.model_copy(update={"answer": answer}))
    answer = TrainingAnswer(
        succeeded=True,
        model_package_id=e.model_package_id,
        metrics=e.metrics,
        estimator_family=e.estimator_family,
        hyperparameters=e.hyperparameters,
        at=at,
        event_id=event.id,
    )
    trained = TrainedModel(
        model_package_id=e.model_package_id, estimator_family=e.estimator_family, hyperparameters=e.hyperparameters
    )
    kept = tuple(t for t in state.trained if t.model_package_id != e.model_package_id)[-(TRAINED_KEPT - 1) :]
    changed = state.model_copy(update={"trained": (*kept, trained)})
    return _with_run(changed, run.model_copy(update={"answer": answer}))


def _action_answer(run: Run, asked: str, message: Event, event: Recorded[Event]) -> dict[str, Any]:
    """The change to `run` if `message` answers its ask (the command `asked`), else nothing."""
    change_request = derived_id(asked, "change-request")
    replacing = run.step is RunStep.REPLACING_MODEL
    about_the_ask = event.causation_id == asked or getattr(message, "change_request_id", None) == change_request
    answer: ActionAnswer | None = None
    at = utc_ms(event.time)
    if isinstance(message, ev.ModelReplaced) and replacing and about_the_ask:
        answer = ActionAnswer(outcome="done", at=at, event_id=event.id)
    elif isinstance(message, ev.ModelReplacementRejected) and replacing and about_the_ask:
        answer = ActionAnswer(outcome="refused", code="checks-failing", reason=message.reason, at=at, event_id=event.id)
    elif isinstance(message, ev.ChallengerAdded) and message.challenger_id == derived_id(asked, "challenger"):
        answer = ActionAnswer(outcome="done", challenger_id=message.challenger_id, at=at, event_id=event.id)
    elif isinstance(message, ev.CommandRejected) and message.command_id == asked:
        answer = ActionAnswer(outcome="refused", code=message.code, reason=message.reason, at=at, event_id=event.id)
    elif isinstance(message, ev.ChangeRequestOpened) and message.change_request_id == change_request:
        return {"change_request_id": change_request}
    elif (closed := _CHANGE_REQUEST_CLOSED.get(type(message))) is not None and about_the_ask:
        how = closed.removeprefix("change-request-")
        reason = f"the change request {change_request} to replace the model was {how}"
        answer = ActionAnswer(outcome="refused", code=closed, reason=reason, at=at, event_id=event.id)
    return {} if answer is None else {"action_answer": answer}
