"""Runs: the state machine (every allowed and refused move, the cancel rule), and runs driven end to end
through the service's loop (`Live`): training, the model actions, the replacement service's answers,
failures, the timeout, the queue, schedules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from services.retraining.domain import codes, runs
from services.retraining.domain.due import due_commands, wake_at
from services.retraining.domain.state import Run
from shared.contract import events as ev
from shared.contract.commands.replacement import AddChallenger, ReplaceModel
from shared.contract.commands.retraining import (
    CancelRetrainingRun,
    ExpireTraining,
    RunRetrainingPolicy,
    StartScheduledRun,
)
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
from shared.contract.events.values import HealthStatus, ReplacementReason, Role
from shared.contract.messages import Actor, Command, Event
from shared.domain.decider import Rejection
from tests.unit.retraining.builders import (
    ACCURACY,
    CONSUMER,
    DRIFT,
    MANUAL,
    NIGHTLY,
    OWNER,
    USER,
    D,
    Live,
    accuracy,
    at,
    command,
    drift,
    policy_created,
    replaced,
    team,
)

S = RunStep
EXPECTED_MOVES = {
    (S.QUEUED, S.PREPARING_DATA),
    (S.PREPARING_DATA, S.TRAINING),
    (S.TRAINING, S.REGISTERING_PACKAGE),
    (S.REGISTERING_PACKAGE, S.CREATING_CHALLENGER),
    (S.REGISTERING_PACKAGE, S.REPLACING_MODEL),
    (S.REGISTERING_PACKAGE, S.REGISTERING_ONLY),
    (S.CREATING_CHALLENGER, S.CREATING_CHALLENGER),  # asked again after package-unknown
    (S.REPLACING_MODEL, S.REPLACING_MODEL),
}


# ---------------------------------------------------------------- the state machine


@pytest.mark.parametrize("source", list(RunStep))
@pytest.mark.parametrize("target", list(RunStep))
def test_every_move_is_allowed_or_refused_as_the_diagram_says(source: RunStep, target: RunStep) -> None:
    assert runs.can_move(source, target) == ((source, target) in EXPECTED_MOVES)


def _run(step: RunStep, status: RunStatus = RunStatus.RUNNING) -> Run:
    return Run(
        id="r",
        policy_id="p",
        trigger=TriggerType.MANUAL,
        cause=Cause.MANUAL,
        triggered_at=at(0),
        started_at=at(0),
        model_selection=ModelSelection.AUTOPILOT_RECOMMENDED,
        model_action=ModelAction.MODEL_REPLACEMENT,
        modeling_strategy="same_as_champion",
        step=step,
        step_at=at(0),
        status=status,
    )


@pytest.mark.parametrize("step", list(RunStep))
def test_cancel_is_refused_from_creating_challenger_or_replacing_model_on(step: RunStep) -> None:
    refusal = runs.cancel_refusal(_run(step))
    allowed = step in {S.QUEUED, S.PREPARING_DATA, S.TRAINING, S.REGISTERING_PACKAGE}
    assert (refusal is None) == allowed
    if refusal is not None:
        assert refusal.code == codes.RUN_PAST_CANCEL_POINT


@pytest.mark.parametrize("status", [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELED])
def test_finished_runs_never_move(status: RunStatus) -> None:
    finished = _run(S.TRAINING, status)
    assert runs.cancel_refusal(finished) == Rejection(codes.RUN_FINISHED, f"run r has {status} already")
    assert not runs.can_succeed(finished)
    with pytest.raises(runs.IllegalTransition):
        runs.check_move(finished, S.REGISTERING_PACKAGE)


def test_a_run_succeeds_only_from_its_model_action() -> None:
    assert {step for step in RunStep if runs.can_succeed(_run(step))} == {
        S.CREATING_CHALLENGER,
        S.REPLACING_MODEL,
        S.REGISTERING_ONLY,
    }


# ---------------------------------------------------------------- runs end to end


def live_with(policy: ev.RetrainingPolicyCreated, *more: Event) -> Live:
    return Live(*team(), policy, *more)


def run_by_hand(live: Live, minutes: float = 1, actor: Actor = OWNER, policy_id: str = "p-1") -> str:
    cmd = command(RunRetrainingPolicy, actor, policy_id=policy_id)
    live.ok(cmd, at(minutes))
    return derived_id(cmd.command_id, "run")


def current(live: Live, run_id: str) -> Run:
    run = live.state.run(run_id)
    assert run is not None
    return run


def trained(live: Live, run_id: str, minutes: float, package: str = "pkg-2", **fields: Any) -> list[Command]:
    live.hear(ev.TrainingSucceeded(deployment_id=D, run_id=run_id, model_package_id=package, **fields), at(minutes))
    return live.tick(at(minutes))


def test_a_run_by_hand_asks_the_trainer_with_what_it_needs() -> None:
    live = live_with(policy_created("p-1", MANUAL, ModelAction.MODEL_REPLACEMENT))
    cmd = command(RunRetrainingPolicy, OWNER, policy_id="p-1")
    run_id = derived_id(cmd.command_id, "run")
    assert live.ok(cmd, at(1)) == [
        ev.RetrainingRunStarted(
            deployment_id=D,
            run_id=run_id,
            policy_id="p-1",
            trigger=TriggerType.MANUAL,
            started_at=at(1),
            cause=Cause.MANUAL,
            triggered_at=at(1),
            started_by="alice",
            acting_as=OWNER,
            model_selection=ModelSelection.AUTOPILOT_RECOMMENDED,
            model_action=ModelAction.MODEL_REPLACEMENT,
            modeling_strategy="same_as_champion",
        ),
        ev.RetrainingRunStepChanged(deployment_id=D, run_id=run_id, step=S.PREPARING_DATA),
        ev.RetrainingRunStepChanged(deployment_id=D, run_id=run_id, step=S.TRAINING),
        ev.TrainingRequested(
            deployment_id=D,
            run_id=run_id,
            policy_id="p-1",
            dataset_path="/data/churn.csv",
            target_name="churn",
            model_selection=ModelSelection.AUTOPILOT_RECOMMENDED,
            modeling_strategy=ModelingStrategy.SAME_AS_CHAMPION,
            champion_model_package_id="pkg-1",
            deadline=at(61),
        ),
    ]
    assert current(live, run_id).step is S.TRAINING and wake_at(live.state) == at(61)


def test_model_replacement_asks_the_replacement_service_and_succeeds_on_its_answer() -> None:
    live = live_with(policy_created("p-1", MANUAL, ModelAction.MODEL_REPLACEMENT))
    run_id = run_by_hand(live)
    asks = trained(live, run_id, 5, metrics={"roc_auc": 0.9})
    run = current(live, run_id)
    assert run.step is S.REPLACING_MODEL and run.model_package_id == "pkg-2"
    assert asks == [
        ReplaceModel(
            command_id=run.action_command_id,
            deployment_id=D,
            actor=OWNER,
            model_package_id="pkg-2",
            reason=ReplacementReason.OTHER,
            note=f"retraining run {run_id} of policy p-1",
        )
    ]
    assert live.tick(at(6)) == asks, "asked until answered"
    live.hear(replaced("pkg-2"), at(7), causation_id=asks[0].command_id)
    assert live.tick(at(7)) == []
    run = current(live, run_id)
    assert (run.status, run.model_package_id, run.metrics, run.finished_at) == (
        RunStatus.SUCCEEDED,
        "pkg-2",
        {"roc_auc": 0.9},
        at(7),
    )
    assert run.duration == timedelta(minutes=6) and live.state.champion is not None
    assert live.state.champion.id == "pkg-2"
    steps = [e.step for e in live.of_type(ev.RetrainingRunStepChanged)]
    assert steps == [S.PREPARING_DATA, S.TRAINING, S.REGISTERING_PACKAGE, S.REPLACING_MODEL]


def _fire(live: Live, trigger: TriggerType) -> None:
    """Make the policy fire at minute 2 and let the loop start its run."""
    if trigger is TriggerType.DATA_DRIFT_DECLINE:
        live.hear(drift(HealthStatus.WARNING), at(2))
    elif trigger is TriggerType.ACCURACY_DECLINE:
        live.hear(accuracy(HealthStatus.FAILING), at(2))
    live.tick(at(2) if trigger is not TriggerType.SCHEDULE else at(120))


@pytest.mark.parametrize(
    ("trigger", "reason"),
    [
        (DRIFT, ReplacementReason.DATA_DRIFT),
        (ACCURACY, ReplacementReason.ACCURACY),
        (NIGHTLY, ReplacementReason.SCHEDULED_REFRESH),
    ],
)
def test_the_replacement_reason_comes_from_the_trigger(trigger: Any, reason: ReplacementReason) -> None:
    live = live_with(policy_created("p-1", trigger, ModelAction.MODEL_REPLACEMENT))
    _fire(live, trigger.type)
    [started] = live.of_type(ev.RetrainingRunStarted)
    assert started.trigger is trigger.type and started.acting_as is None
    [ask] = trained(live, started.run_id, 130)
    assert isinstance(ask, ReplaceModel) and ask.reason is reason and ask.actor == Actor(user="alice")


def test_create_challenger_adds_one_and_succeeds_with_its_id() -> None:
    live = live_with(policy_created("p-1", MANUAL, ModelAction.CREATE_CHALLENGER))
    run_id = run_by_hand(live)
    [ask] = trained(live, run_id, 5)
    assert isinstance(ask, AddChallenger) and ask.prediction_environment_id == "env-1"
    challenger_id = derived_id(ask.command_id, "challenger")
    live.hear(
        ev.ChallengerAdded(deployment_id=D, challenger_id=challenger_id, model_package=replaced("pkg-2").model_package),
        at(6),
    )
    live.tick(at(6))
    run = current(live, run_id)
    assert (run.status, run.challenger_id) == (RunStatus.SUCCEEDED, challenger_id)


def test_create_model_package_only_registers_and_succeeds_at_once() -> None:
    live = live_with(policy_created("p-1", MANUAL, ModelAction.CREATE_MODEL_PACKAGE))
    run_id = run_by_hand(live)
    assert trained(live, run_id, 5) == []
    steps = [e.step for e in live.of_type(ev.RetrainingRunStepChanged)][-2:]
    assert steps == [S.REGISTERING_PACKAGE, S.REGISTERING_ONLY]
    assert current(live, run_id).status is RunStatus.SUCCEEDED and live.state.champion
    assert live.state.champion.id == "pkg-1", "only registered"


def test_a_trainer_failure_fails_the_run() -> None:
    live = live_with(policy_created("p-1"))
    run_id = run_by_hand(live)
    live.hear(ev.TrainingFailed(deployment_id=D, run_id=run_id, error="target column missing"), at(4))
    live.tick(at(4))
    run = current(live, run_id)
    assert (run.status, run.error_code, run.error, run.finished_at) == (
        RunStatus.FAILED,
        codes.RUN_TRAINING_FAILED,
        "target column missing",
        at(4),
    )


def test_a_training_timeout_fails_the_run_and_a_late_answer_changes_nothing() -> None:
    live = live_with(policy_created("p-1"))
    run_id = run_by_hand(live)  # deadline: minute 61
    early = command(ExpireTraining, run_id=run_id)
    assert live.send(early, at(30)) == Rejection(
        codes.NOT_DUE, f"run {run_id} may wait for the trainer until {at(61).isoformat()}"
    )
    assert live.tick(at(60)) == [] and current(live, run_id).running
    live.tick(at(61))
    run = current(live, run_id)
    assert (run.status, run.error_code, run.step) == (RunStatus.FAILED, codes.RUN_TRAINING_TIMEOUT, S.TRAINING)
    assert [e.run_id for e in live.of_type(ev.TrainingCanceled)] == [run_id]
    live.hear(ev.TrainingSucceeded(deployment_id=D, run_id=run_id, model_package_id="pkg-late"), at(62))
    assert current(live, run_id) == run and live.tick(at(62)) == []


def test_cancel_while_queued_or_training_but_not_once_replacing() -> None:
    live = live_with(policy_created("p-1"))
    first, second = run_by_hand(live, 1), run_by_hand(live, 2)
    assert current(live, second).step is S.QUEUED
    live.ok(command(CancelRetrainingRun, USER, run_id=second), at(3))
    assert current(live, second).status is RunStatus.CANCELED
    assert not live.of_type(ev.TrainingCanceled), "a queued run was never training"
    live.ok(command(CancelRetrainingRun, OWNER, run_id=first), at(4))
    assert [e.run_id for e in live.of_type(ev.TrainingCanceled)] == [first]
    finished = live.send(command(CancelRetrainingRun, run_id=first), at(5))
    assert isinstance(finished, Rejection) and finished.code == codes.RUN_FINISHED
    third = run_by_hand(live, 6)
    trained(live, third, 7)
    assert current(live, third).step is S.REPLACING_MODEL
    refused = live.send(command(CancelRetrainingRun, run_id=third), at(8))
    assert isinstance(refused, Rejection) and refused.code == codes.RUN_PAST_CANCEL_POINT
    unknown = live.send(command(CancelRetrainingRun, run_id="nope"), at(8))
    assert isinstance(unknown, Rejection) and unknown.code == codes.RUN_UNKNOWN
    forbidden = live.send(command(CancelRetrainingRun, CONSUMER, run_id=third), at(8))
    assert isinstance(forbidden, Rejection) and forbidden.code == codes.FORBIDDEN


def test_cancel_is_refused_once_creating_a_challenger() -> None:
    live = live_with(policy_created("p-1", MANUAL, ModelAction.CREATE_CHALLENGER))
    run_id = run_by_hand(live)
    trained(live, run_id, 5)
    refused = live.send(command(CancelRetrainingRun, run_id=run_id), at(6))
    assert isinstance(refused, Rejection) and refused.code == codes.RUN_PAST_CANCEL_POINT


def test_one_run_at_a_time_and_the_next_begins_when_it_finishes() -> None:
    live = live_with(policy_created("p-1", MANUAL, ModelAction.CREATE_MODEL_PACKAGE))
    first, second = run_by_hand(live, 1), run_by_hand(live, 2)
    assert [current(live, r).step for r in (first, second)] == [S.TRAINING, S.QUEUED]
    assert [e.run_id for e in live.of_type(ev.TrainingRequested)] == [first]
    trained(live, first, 3)
    assert current(live, first).status is RunStatus.SUCCEEDED
    assert current(live, second).step is S.TRAINING
    assert [e.run_id for e in live.of_type(ev.TrainingRequested)] == [first, second]


def test_a_refused_replacement_fails_the_run_with_the_reason() -> None:
    live = live_with(policy_created("p-1"))
    run_id = run_by_hand(live)
    [ask] = trained(live, run_id, 5)
    rejected = ev.ModelReplacementRejected(deployment_id=D, model_package_id="pkg-2", reason="target_type: Regression")
    live.hear(rejected, at(6), causation_id=ask.command_id)
    live.tick(at(6))
    run = current(live, run_id)
    assert (run.status, run.error_code, run.step) == (
        RunStatus.FAILED,
        codes.RUN_MODEL_ACTION_REFUSED,
        S.REPLACING_MODEL,
    )
    assert run.error is not None and "target_type: Regression" in run.error


def test_package_unknown_is_asked_again_after_a_while_then_given_up() -> None:
    live = live_with(policy_created("p-1"))
    run_id = run_by_hand(live)
    [ask] = trained(live, run_id, 5)
    asked = [ask.command_id]
    for attempt in (2, 3):
        refused = ev.CommandRejected(
            deployment_id=D, command_id=asked[-1], command_type="ReplaceModel", code="package-unknown", reason="later"
        )
        minute = 5 + attempt
        live.hear(refused, at(minute))
        assert live.tick(at(minute)) == [], "not before the retry delay"
        [again] = live.tick(at(minute) + timedelta(seconds=15))
        assert again.command_id not in asked and current(live, run_id).action_attempt == attempt
        asked.append(again.command_id)
    last = ev.CommandRejected(
        deployment_id=D, command_id=asked[-1], command_type="ReplaceModel", code="package-unknown", reason="still"
    )
    live.hear(last, at(9))
    live.tick(at(9))
    assert (current(live, run_id).status, current(live, run_id).error_code) == (
        RunStatus.FAILED,
        codes.RUN_MODEL_ACTION_REFUSED,
    )


def _approved_and_replaced(change_request: str) -> Event:
    return replaced("pkg-2").model_copy(update={"change_request_id": change_request})


def _rejected(change_request: str) -> Event:
    return ev.ChangeRequestRejected(deployment_id=D, change_request_id=change_request, rejected_by="bob")


def _expired(change_request: str) -> Event:
    return ev.ChangeRequestExpired(deployment_id=D, change_request_id=change_request)


@pytest.mark.parametrize(
    ("closing", "outcome"),
    [(_approved_and_replaced, RunStatus.SUCCEEDED), (_rejected, RunStatus.FAILED), (_expired, RunStatus.FAILED)],
)
def test_a_guarded_deployment_waits_for_the_change_request(closing: Callable[[str], Event], outcome: RunStatus) -> None:
    live = live_with(policy_created("p-1"))
    run_id = run_by_hand(live)
    [ask] = trained(live, run_id, 5)
    change_request = derived_id(ask.command_id, "change-request")
    opened = ev.ChangeRequestOpened.holding(ask, change_request_id=change_request, expires_at=at(60 * 24))
    live.hear(opened, at(6), causation_id=ask.command_id)
    assert live.tick(at(7)) == [], "no more asks while the request is open"
    assert current(live, run_id).running
    live.hear(closing(change_request), at(8))
    live.tick(at(8))
    assert current(live, run_id).status is outcome


def test_a_run_acts_as_someone_allowed_to_do_what_it_does() -> None:
    # a USER may start a run that only registers, not one that replaces the model
    live = live_with(policy_created("p-1", MANUAL, ModelAction.CREATE_MODEL_PACKAGE))
    assert current(live, run_by_hand(live, actor=USER)).step is S.TRAINING
    live = live_with(policy_created("p-1", MANUAL, ModelAction.MODEL_REPLACEMENT))
    run = current(live, run_by_hand(live, actor=USER))
    assert (run.status, run.error_code, run.step) == (RunStatus.FAILED, codes.RUN_NOT_PERMITTED, S.PREPARING_DATA)
    # automatic runs act as the retraining user, who must still be an OWNER
    revoked = ev.DeploymentShared(deployment_id=D, principal="alice", role=Role.USER)
    live = live_with(policy_created("p-1", DRIFT), revoked)
    _fire(live, TriggerType.DATA_DRIFT_DECLINE)
    [failed] = live.of_type(ev.RetrainingRunFailed)
    assert failed.code == codes.RUN_NOT_PERMITTED and "alice" in failed.error
    # a CONSUMER may not start runs at all
    refused = live.send(command(RunRetrainingPolicy, CONSUMER, policy_id="p-1"), at(3))
    assert isinstance(refused, Rejection) and refused.code == codes.FORBIDDEN


def test_a_scheduled_run_starts_once_per_due_time_whoever_sends_it() -> None:
    live = live_with(policy_created("p-1", NIGHTLY))
    assert live.tick(at(119)) == [] and not live.of_type(ev.RetrainingRunStarted)
    assert wake_at(live.state) == at(120)
    live.tick(
        at(
            120,
        )
    )
    [started] = live.of_type(ev.RetrainingRunStarted)
    assert (started.trigger, started.cause, started.triggered_at) == (TriggerType.SCHEDULE, Cause.SCHEDULE, at(120))
    # another instance's loop sends the same command id: dropped; another id for the same due time: refused
    again = command(StartScheduledRun, policy_id="p-1", due_at=at(120))
    refused = live.send(again, at(121))
    assert isinstance(refused, Rejection) and refused.code == codes.NOT_DUE
    early = live.send(command(StartScheduledRun, policy_id="p-1", due_at=at(120 + 24 * 60)), at(121))
    assert isinstance(early, Rejection) and early.code == codes.NOT_DUE
    assert len(live.of_type(ev.RetrainingRunStarted)) == 1


def test_due_times_missed_while_down_start_one_run() -> None:
    live = live_with(policy_created("p-1", NIGHTLY, ModelAction.CREATE_MODEL_PACKAGE))
    live.tick(at(3 * 24 * 60 + 200))  # the loop first looks on the fourth night, at 03:20
    [started] = live.of_type(ev.RetrainingRunStarted)
    assert started.triggered_at == at(3 * 24 * 60 + 120), "the last of the four nights"
    assert wake_at(live.state) is not None


def test_same_blueprint_runs_pass_the_champions_estimator_when_a_trainer_made_it() -> None:
    live = live_with(
        policy_created("p-1", MANUAL, ModelAction.MODEL_REPLACEMENT, model_selection=ModelSelection.SAME_BLUEPRINT)
    )
    run_id = run_by_hand(live)
    [ask] = trained(live, run_id, 5, estimator_family="RandomForest", hyperparameters={"n_estimators": 200})
    live.hear(replaced("pkg-2"), at(6), causation_id=ask.command_id)
    live.tick(at(6))
    run_by_hand(live, 7)
    request = live.of_type(ev.TrainingRequested)[-1]
    assert (request.champion_model_package_id, request.estimator_family, request.hyperparameters) == (
        "pkg-2",
        "RandomForest",
        {"n_estimators": 200},
    )
    assert request.model_selection is ModelSelection.SAME_BLUEPRINT


def test_a_deleted_deployment_fires_nothing_but_lets_runs_finish() -> None:
    live = live_with(policy_created("p-1", DRIFT))
    run_id = run_by_hand(live)
    live.hear(ev.DeploymentDeleted(deployment_id=D), at(2))
    live.hear(drift(HealthStatus.FAILING), at(3))
    assert live.state.pending == ()
    live.ok(command(CancelRetrainingRun, run_id=run_id), at(4))


def test_nothing_to_do_means_no_wake_up() -> None:
    live = live_with(policy_created("p-1", MANUAL))
    assert wake_at(live.state) is None
    live.hear(drift(HealthStatus.FAILING), at(1))
    assert wake_at(live.state) is None, "a manual policy does not fire"


def test_a_deleted_deployment_starts_no_scheduled_runs() -> None:
    live = live_with(policy_created("p-1", NIGHTLY), ev.DeploymentDeleted(deployment_id=D))
    assert due_commands(live.state, at(121)) == () and wake_at(live.state) is None
