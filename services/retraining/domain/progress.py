"""A run's decisions: start it, take its steps, finish it, cancel it, time it out. Pure.

One run of a deployment is in progress at a time; a run started meanwhile waits `queued`, and when the run
in progress finishes (in the same decision) the first queued run begins. Beginning a run is instantaneous
up to the trainer: `preparing_data` checks what training needs (settings, champion, the acting user's
role) and fails the run if something is missing; then `training` with `TrainingRequested`.

After training the model action: `registering_only` succeeds at once; `replacing_model` and
`creating_challenger` carry what the replacement service is asked (`due.model_action_command` builds the
ReplaceModel / AddChallenger from the run) and wait for its answer (see evolve). A run acts as the person
who started it by hand, or else as the retraining user.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from services.retraining.domain import codes
from services.retraining.domain.evolve import run_of
from services.retraining.domain.rules import Rules
from services.retraining.domain.runs import (
    ACTION_STEP,
    ASKS_REPLACEMENT,
    REPLACEMENT_REASON,
    IllegalTransition,
    can_succeed,
    cancel_refusal,
    check_move,
)
from services.retraining.domain.state import Fire, Policy, RetrainingState, Run
from shared.contract import events as ev
from shared.contract.events.retraining import Cause, ModelAction, ModelingStrategy, RunStep, TriggerType
from shared.contract.events.values import DeploymentStatus, Role
from shared.contract.messages import Actor, Event
from shared.domain.decider import Decision, Rejection
from shared.domain.roles import has_role

PACKAGE_UNKNOWN = "package-unknown"
"""The replacement service's code for a package it has not seen registered yet: worth asking again."""


def start(
    state: RetrainingState,
    policy: Policy,
    *,
    run_id: str,
    trigger: TriggerType,
    cause: Cause,
    triggered_at: datetime,
    now: datetime,
    rules: Rules,
    fire: Fire | None = None,
    by: Actor | None = None,
) -> list[Event]:
    started = ev.RetrainingRunStarted(
        deployment_id=state.deployment_id,
        run_id=run_id,
        policy_id=policy.id,
        trigger=trigger,
        started_at=now,
        cause=cause,
        triggered_at=triggered_at,
        cause_event_id=fire.report_event_id if fire else None,
        cause_status=fire.status if fire else None,
        started_by=by.user if by else None,
        acting_as=by,
        model_selection=policy.model_selection,
        model_action=policy.model_action,
        modeling_strategy=policy.modeling_strategy,
    )
    if state.in_progress is not None or state.queued:
        return [started]
    return [started, *begin(state, run_of(started, now), now, rules)]


def begin(state: RetrainingState, run: Run, now: datetime, rules: Rules) -> list[Event]:
    """queued → preparing_data → training (asking the trainer), or failed while preparing."""
    run, preparing = _move(state, run, RunStep.PREPARING_DATA)
    events: list[Event] = [preparing]
    if (problem := preparation_problem(state, run)) is not None:
        code, error = problem
        return [*events, _failed(state, run, now, code, error, RunStep.PREPARING_DATA)]
    assert state.settings is not None and state.champion is not None
    trained = state.trained_model(state.champion.id)
    request = ev.TrainingRequested(
        deployment_id=state.deployment_id,
        run_id=run.id,
        policy_id=run.policy_id,
        dataset_path=state.settings.dataset_id,
        target_name=state.champion.target_name,
        model_selection=run.model_selection,
        modeling_strategy=_strategy(run.modeling_strategy),
        champion_model_package_id=state.champion.id,
        estimator_family=trained.estimator_family if trained else None,
        hyperparameters=trained.hyperparameters if trained else {},
        deadline=now + rules.training_timeout,
    )
    _, training = _move(state, run, RunStep.TRAINING)
    return [*events, training, request]


def begin_next(state: RetrainingState, now: datetime, rules: Rules, *, done: Collection[str]) -> list[Event]:
    """The queued runs' turn once the runs `done` finished: the first that reaches training stays in
    progress; one that fails while preparing gives the turn to the next."""
    if (current := state.in_progress) is not None and current.id not in done:
        return []
    events: list[Event] = []
    for run in state.queued:
        if run.id in done:
            continue
        began = begin(state, run, now, rules)
        events += began
        if not isinstance(began[-1], ev.RetrainingRunFailed):
            break
    return events


def advance(state: RetrainingState, run: Run, now: datetime, rules: Rules) -> Decision:
    if run.step is RunStep.QUEUED:
        if state.in_progress is None and state.queued and state.queued[0].id == run.id:
            return begin_next(state, now, rules, done=())
        return Rejection(codes.NOTHING_TO_ADVANCE, f"run {run.id} waits for its turn")
    if run.step is RunStep.TRAINING and run.answer is not None:
        return _after_training(state, run, now, rules)
    if run.step in ASKS_REPLACEMENT and run.action_answer is not None:
        return _after_model_action(state, run, now, rules)
    return Rejection(codes.NOTHING_TO_ADVANCE, f"run {run.id} is {run.step} and has no answer to act on yet")


def cancel(state: RetrainingState, run: Run, by: Actor, now: datetime, rules: Rules) -> Decision:
    if (refused := cancel_refusal(run)) is not None:
        return refused
    events: list[Event] = [
        ev.RetrainingRunCanceled(
            deployment_id=state.deployment_id, run_id=run.id, finished_at=now, canceled_by=by.user, step=run.step
        )
    ]
    if run.step is RunStep.TRAINING:
        events.append(_stop_training(state, run, f"canceled by {by.user}"))
    return [*events, *begin_next(state, now, rules, done={run.id})]


def expire_training(state: RetrainingState, run: Run, now: datetime, rules: Rules) -> Decision:
    if run.step is not RunStep.TRAINING or run.answer is not None or run.deadline is None:
        return Rejection(codes.NOT_DUE, f"run {run.id} is not waiting for the trainer")
    if now + rules.clock_tolerance < run.deadline:
        return Rejection(codes.NOT_DUE, f"run {run.id} may wait for the trainer until {run.deadline.isoformat()}")
    error = f"the trainer did not answer by {run.deadline.isoformat()} ({rules.training_timeout} after it was asked)"
    return [
        _failed(state, run, now, codes.RUN_TRAINING_TIMEOUT, error, RunStep.TRAINING),
        _stop_training(state, run, "timed out"),
        *begin_next(state, now, rules, done={run.id}),
    ]


def acting_actor(state: RetrainingState, run: Run) -> Actor | None:
    """Whom the run acts as: its starter for a run started by hand, else the retraining user (now)."""
    if run.started_by is not None:
        return run.started_by
    return Actor(user=state.settings.retraining_user) if state.settings else None


def preparation_problem(state: RetrainingState, run: Run) -> tuple[str, str] | None:
    """(failure code, error) when the run cannot train now."""
    if state.status is DeploymentStatus.DELETED:
        return codes.DEPLOYMENT_DELETED, f"deployment {state.deployment_id} is deleted"
    if state.settings is None:
        return codes.RUN_NO_SETTINGS, f"deployment {state.deployment_id} has no retraining settings"
    if state.champion is None:
        return codes.RUN_CHAMPION_UNKNOWN, f"the champion of deployment {state.deployment_id} is not known"
    actor = acting_actor(state, run)
    by_hand_only_registering = run.started_by is not None and run.model_action is ModelAction.CREATE_MODEL_PACKAGE
    needed = Role.USER if by_hand_only_registering else Role.OWNER
    if actor is None or not has_role(state, actor, needed):
        who = actor.user if actor else "nobody"
        return codes.RUN_NOT_PERMITTED, f"{who} acts for this run and needs {needed} on the deployment"
    return None


def _after_training(state: RetrainingState, run: Run, now: datetime, rules: Rules) -> list[Event]:
    answer = run.answer
    assert answer is not None
    if not answer.succeeded or answer.model_package_id is None:
        error = answer.error or "the trainer failed without saying why"
        failed = _failed(state, run, now, codes.RUN_TRAINING_FAILED, error, RunStep.TRAINING)
        return [failed, *begin_next(state, now, rules, done={run.id})]
    package = answer.model_package_id
    run, registering = _move(state, run, RunStep.REGISTERING_PACKAGE, package)
    action_step = ACTION_STEP[run.model_action]
    if action_step is RunStep.REGISTERING_ONLY:
        run, registered = _move(state, run, action_step, package)
        succeeded = _succeeded(state, run, now, package, None)
        return [registering, registered, succeeded, *begin_next(state, now, rules, done={run.id})]
    return [registering, _ask(state, run, action_step, package, attempt=1)]


def _after_model_action(state: RetrainingState, run: Run, now: datetime, rules: Rules) -> Decision:
    answer = run.action_answer
    assert answer is not None
    if answer.outcome == "done":
        succeeded = _succeeded(state, run, now, run.model_package_id, answer.challenger_id)
        return [succeeded, *begin_next(state, now, rules, done={run.id})]
    if answer.code == PACKAGE_UNKNOWN and run.action_attempt < rules.model_action_attempts:
        again_at = answer.at + rules.model_action_retry_after
        if now + rules.clock_tolerance < again_at:
            return Rejection(
                codes.NOT_DUE, f"run {run.id} asks the replacement service again at {again_at.isoformat()}"
            )
        return [_ask(state, run, run.step, run.model_package_id or "", attempt=run.action_attempt + 1)]
    error = f"the replacement service refused ({answer.code}): {answer.reason}"
    failed = _failed(state, run, now, codes.RUN_MODEL_ACTION_REFUSED, error, run.step)
    return [failed, *begin_next(state, now, rules, done={run.id})]


def _ask(state: RetrainingState, run: Run, step: RunStep, package: str, *, attempt: int) -> ev.RetrainingRunStepChanged:
    """replacing_model / creating_challenger, with what the replacement service is to be asked."""
    check_move(run, step)
    replacing = step is RunStep.REPLACING_MODEL
    settings = state.settings
    environment = (settings.prediction_environment_id if settings else None) or state.prediction_environment_id
    return ev.RetrainingRunStepChanged(
        deployment_id=state.deployment_id,
        run_id=run.id,
        step=step,
        model_package_id=package,
        replacement_reason=REPLACEMENT_REASON[run.trigger] if replacing else None,
        prediction_environment_id=None if replacing else environment,
        acting_as=acting_actor(state, run),
        attempt=attempt,
    )


def _move(
    state: RetrainingState, run: Run, step: RunStep, package: str | None = None
) -> tuple[Run, ev.RetrainingRunStepChanged]:
    """The run one step on (the state machine checks the move) and the event that says so."""
    check_move(run, step)
    event = ev.RetrainingRunStepChanged(
        deployment_id=state.deployment_id, run_id=run.id, step=step, model_package_id=package
    )
    return run.model_copy(update={"step": step}), event


def _succeeded(
    state: RetrainingState, run: Run, now: datetime, package: str | None, challenger_id: str | None
) -> ev.RetrainingRunSucceeded:
    if not can_succeed(run):
        raise IllegalTransition(f"run {run.id} cannot succeed from {run.status}/{run.step}")
    return ev.RetrainingRunSucceeded(
        deployment_id=state.deployment_id,
        run_id=run.id,
        finished_at=now,
        model_package_id=package,
        challenger_id=challenger_id,
        metrics=run.answer.metrics if run.answer else {},
    )


def _failed(
    state: RetrainingState, run: Run, now: datetime, code: str, error: str, step: RunStep
) -> ev.RetrainingRunFailed:
    if not run.running:
        raise IllegalTransition(f"run {run.id} has {run.status} already")
    return ev.RetrainingRunFailed(
        deployment_id=state.deployment_id,
        run_id=run.id,
        finished_at=now,
        error=error,
        code=code,
        step=step,
        model_package_id=run.model_package_id or (run.answer.model_package_id if run.answer else None),
    )


def _stop_training(state: RetrainingState, run: Run, reason: str) -> ev.TrainingCanceled:
    return ev.TrainingCanceled(deployment_id=state.deployment_id, run_id=run.id, reason=reason)


def _strategy(value: str) -> ModelingStrategy:
    try:
        return ModelingStrategy(value)
    except ValueError:
        return ModelingStrategy.SAME_AS_CHAMPION
