"""What a command means for a deployment's retraining now: the events it ends in, or why it is refused. Pure.

`decide(state, command, now, rules=...)`. Every command is refused for a deployment the service has not
seen (`not-found`) or that is erased; on a deleted one only runs already started move on (cancel, advance,
expire). Then the caller's role (people's commands only; internal ones come from the service itself;
read as every service reads it, shared.domain.roles, an admin counting as an OWNER): settings and
policies (create, update, delete) need OWNER, running a policy by hand or cancelling a run OWNER or USER;
the retraining user must be an OWNER, checked when the settings change and again when an automatic run
prepares its data (roles change meanwhile). Then the command's own rules. Ids of what a command creates
derive from its command id: a policy `derived_id(command_id, "policy")`, a run `derived_id(command_id, "run")`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from services.retraining.domain import codes, cron, progress, triggers
from services.retraining.domain.rules import DEFAULT_RULES, Rules
from services.retraining.domain.state import RetrainingState
from shared.contract import events as ev
from shared.contract.commands.retraining import (
    AdvanceRun,
    CancelRetrainingRun,
    ChangeRetrainingSettings,
    CreateRetrainingPolicy,
    DeleteRetrainingPolicy,
    ExpireTraining,
    RetrainingCommand,
    RunRetrainingPolicy,
    StartScheduledRun,
    StartTriggeredRun,
    UpdateRetrainingPolicy,
)
from shared.contract.envelope import derived_id
from shared.contract.events.retraining import Cause, Trigger, TriggerType
from shared.contract.events.values import DeploymentStatus, Role
from shared.contract.messages import Actor
from shared.domain.decider import Decision, Rejection
from shared.domain.fold import utc_ms
from shared.domain.roles import has_role, require

T = TypeVar("T")
_ON_DELETED = (CancelRetrainingRun, AdvanceRun, ExpireTraining)
"""What still runs on a deleted deployment: runs already started finish."""


def decide(
    state: RetrainingState, command: RetrainingCommand, now: datetime, *, rules: Rules = DEFAULT_RULES
) -> Decision:
    if (refused := _unknown_or_gone(state, command)) is not None:
        return refused
    if isinstance(command, ChangeRetrainingSettings):
        return change_settings(state, command)
    if isinstance(command, CreateRetrainingPolicy):
        return create_policy(state, command, now, rules)
    if isinstance(command, UpdateRetrainingPolicy):
        return update_policy(state, command, now)
    if isinstance(command, DeleteRetrainingPolicy):
        return delete_policy(state, command)
    if isinstance(command, RunRetrainingPolicy):
        return run_policy(state, command, now, rules)
    if isinstance(command, CancelRetrainingRun):
        return cancel_run(state, command, now, rules)
    if isinstance(command, StartScheduledRun):
        return start_scheduled(state, command, now, rules)
    if isinstance(command, StartTriggeredRun):
        return start_triggered(state, command, now, rules)
    if isinstance(command, AdvanceRun | ExpireTraining):
        return move_run(state, command, now, rules)
    return Rejection(codes.UNKNOWN_COMMAND, f"the retraining service does not handle {command.type_name}")


def change_settings(state: RetrainingState, command: ChangeRetrainingSettings) -> Decision:
    if (refused := require(state, command.actor, Role.OWNER, "changing the retraining settings")) is not None:
        return refused
    named = command.retraining_user
    # Only the caller's own groups are known; an admin flag never passes to the runs.
    user = Actor(user=named, groups=command.actor.groups if named == command.actor.user else ())
    if not has_role(state, user, Role.OWNER):
        return Rejection(
            codes.RETRAINING_USER_NOT_OWNER,
            f"the retraining user {named} must be an OWNER of deployment {state.deployment_id}: share it first",
        )
    return [
        ev.RetrainingSettingsChanged(
            deployment_id=state.deployment_id,
            retraining_user=named,
            dataset_id=command.dataset_id,
            prediction_environment_id=command.prediction_environment_id,
        )
    ]


def create_policy(state: RetrainingState, command: CreateRetrainingPolicy, now: datetime, rules: Rules) -> Decision:
    if (refused := require(state, command.actor, Role.OWNER, "creating a retraining policy")) is not None:
        return refused
    if state.settings is None:
        return Rejection(
            codes.NO_RETRAINING_SETTINGS,
            f"deployment {state.deployment_id} has no retraining settings: set the retraining user and dataset first",
        )
    if len(state.policies) >= rules.max_policies:
        names = ", ".join(repr(p.name) for p in state.policies)
        return Rejection(
            codes.POLICY_LIMIT,
            f"deployment {state.deployment_id} has {len(state.policies)} retraining policies already ({names}); "
            f"at most {rules.max_policies}: delete one first",
        )
    if (never := _never_due(command.trigger, now)) is not None:
        return never
    return [
        ev.RetrainingPolicyCreated(
            deployment_id=state.deployment_id,
            policy_id=derived_id(command.command_id, "policy"),
            name=command.name,
            description=command.description,
            trigger=command.trigger,
            model_selection=command.model_selection,
            model_action=command.model_action,
            modeling_strategy=command.modeling_strategy,
        )
    ]


def update_policy(state: RetrainingState, command: UpdateRetrainingPolicy, now: datetime) -> Decision:
    if (refused := require(state, command.actor, Role.OWNER, "changing a retraining policy")) is not None:
        return refused
    policy = state.policy(command.policy_id)
    if policy is None:
        return _no_policy(state, command.policy_id)
    if command.trigger is not None and (never := _never_due(command.trigger, now)) is not None:
        return never
    return [
        ev.RetrainingPolicyUpdated(
            deployment_id=state.deployment_id,
            policy_id=policy.id,
            name=_given(command.name, policy.name),
            description=_given(command.description, policy.description),
            trigger=_given(command.trigger, policy.trigger),
            model_selection=_given(command.model_selection, policy.model_selection),
            model_action=_given(command.model_action, policy.model_action),
            modeling_strategy=_given(command.modeling_strategy, policy.modeling_strategy),
        )
    ]


def delete_policy(state: RetrainingState, command: DeleteRetrainingPolicy) -> Decision:
    if (refused := require(state, command.actor, Role.OWNER, "deleting a retraining policy")) is not None:
        return refused
    if state.policy(command.policy_id) is None:
        return _no_policy(state, command.policy_id)
    return [ev.RetrainingPolicyDeleted(deployment_id=state.deployment_id, policy_id=command.policy_id)]


def run_policy(state: RetrainingState, command: RunRetrainingPolicy, now: datetime, rules: Rules) -> Decision:
    if (refused := require(state, command.actor, Role.USER, "running a retraining policy")) is not None:
        return refused
    policy = state.policy(command.policy_id)
    if policy is None:
        return _no_policy(state, command.policy_id)
    if state.settings is None:
        return Rejection(codes.NO_RETRAINING_SETTINGS, f"deployment {state.deployment_id} has no retraining settings")
    return progress.start(
        state,
        policy,
        run_id=derived_id(command.command_id, "run"),
        trigger=TriggerType.MANUAL,
        cause=Cause.MANUAL,
        triggered_at=now,
        now=now,
        rules=rules,
        by=command.actor,
    )


def cancel_run(state: RetrainingState, command: CancelRetrainingRun, now: datetime, rules: Rules) -> Decision:
    if (refused := require(state, command.actor, Role.USER, "canceling a retraining run")) is not None:
        return refused
    run = state.run(command.run_id)
    if run is None:
        return _no_run(state, command.run_id)
    return progress.cancel(state, run, command.actor, now, rules)


def start_scheduled(state: RetrainingState, command: StartScheduledRun, now: datetime, rules: Rules) -> Decision:
    policy = state.policy(command.policy_id)
    if policy is None:
        return _no_policy(state, command.policy_id)
    due_at = utc_ms(command.due_at)
    too_early = due_at > now + rules.clock_tolerance
    if too_early or not triggers.may_start_scheduled(policy.trigger, policy.clock, due_at):
        return Rejection(
            codes.NOT_DUE,
            f"policy {policy.id} is not due at {due_at.isoformat()} (already claimed, too early, "
            "inside the minimum interval, or not on its schedule)",
        )
    return progress.start(
        state,
        policy,
        run_id=derived_id(command.command_id, "run"),
        trigger=TriggerType.SCHEDULE,
        cause=Cause.SCHEDULE,
        triggered_at=due_at,
        now=now,
        rules=rules,
    )


def start_triggered(state: RetrainingState, command: StartTriggeredRun, now: datetime, rules: Rules) -> Decision:
    fire = state.fire(command.policy_id, command.report_event_id)
    policy = state.policy(command.policy_id)
    if fire is None or policy is None:
        return Rejection(
            codes.NOT_DUE, f"no pending fire of policy {command.policy_id} by report {command.report_event_id}"
        )
    return progress.start(
        state,
        policy,
        run_id=derived_id(command.command_id, "run"),
        trigger=fire.trigger,
        cause=fire.cause,
        triggered_at=fire.at,
        now=now,
        rules=rules,
        fire=fire,
    )


def move_run(state: RetrainingState, command: AdvanceRun | ExpireTraining, now: datetime, rules: Rules) -> Decision:
    run = state.run(command.run_id)
    if run is None:
        return _no_run(state, command.run_id)
    if not run.running:
        return Rejection(codes.RUN_FINISHED, f"run {run.id} has {run.status} already")
    if isinstance(command, ExpireTraining):
        return progress.expire_training(state, run, now, rules)
    return progress.advance(state, run, now, rules)


def _unknown_or_gone(state: RetrainingState, command: RetrainingCommand) -> Rejection | None:
    if not state.exists:
        return Rejection(codes.NOT_FOUND, f"the retraining service knows no deployment {state.deployment_id}")
    if state.status is DeploymentStatus.ERASED:
        return Rejection(codes.DEPLOYMENT_ERASED, f"deployment {state.deployment_id} is erased")
    if state.status is DeploymentStatus.DELETED and not isinstance(command, _ON_DELETED):
        return Rejection(codes.DEPLOYMENT_DELETED, f"deployment {state.deployment_id} is deleted")
    return None


def _never_due(trigger: Trigger, now: datetime) -> Rejection | None:
    if trigger.schedule is not None and not cron.ever_due(trigger.schedule, now):
        return Rejection(
            codes.SCHEDULE_NEVER_DUE, f"the schedule is never due in the next {cron.HORIZON_DAYS // 366} years"
        )
    return None


def _no_policy(state: RetrainingState, policy_id: str) -> Rejection:
    return Rejection(codes.POLICY_UNKNOWN, f"deployment {state.deployment_id} has no retraining policy {policy_id}")


def _no_run(state: RetrainingState, run_id: str) -> Rejection:
    return Rejection(codes.RUN_UNKNOWN, f"deployment {state.deployment_id} has no retraining run {run_id}")


def _given(value: T | None, current: T) -> T:
    return current if value is None else value
