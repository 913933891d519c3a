"""What a command means for a deployment now: the events it ends in, or why it is refused. Pure.

Registration (a free id), a change-request review (change_requests.py), or a deployment action
(lifecycle.py, access.py), which on a deployment of guarded importance opens a change request
instead of running (the Policy says which importances, and for how long a request stays open).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.actions.domain import change_requests, codes
from services.actions.domain.lifecycle import run
from services.actions.domain.policy import DEFAULT_POLICY, Policy
from services.actions.domain.state import DeploymentState
from shared.contract.commands.actions import ActionsCommand, RegisterDeployment
from shared.contract.events import DeploymentCreated
from shared.contract.events.values import DeploymentStatus
from shared.domain.decider import Decision, Rejection

Decide = Callable[[DeploymentState, ActionsCommand, datetime], Decision]


def decide_under(policy: Policy) -> Decide:
    """`decide` with the change-request policy bound (what the Decider holds)."""

    def decide(state: DeploymentState, command: ActionsCommand, now: datetime) -> Decision:
        return decide_with(policy, state, command, now)

    return decide


def decide_with(policy: Policy, state: DeploymentState, command: ActionsCommand, now: datetime) -> Decision:
    if isinstance(command, RegisterDeployment):
        return register(state, command, now)
    if isinstance(command, change_requests.REVIEWS):
        return change_requests.review(state, command, now)
    outcome = run(state, command)
    if isinstance(outcome, Rejection) or not change_requests.is_guarded(policy, state, command):
        return outcome
    return change_requests.hold(policy, state, command, now)


decide: Decide = decide_under(DEFAULT_POLICY)


def register(state: DeploymentState, command: RegisterDeployment, now: datetime) -> Decision:
    if state.exists:
        return Rejection(
            codes.ALREADY_EXISTS,
            f"deployment {state.deployment_id!r} already exists ({state.status}, created by {state.created_by})",
        )
    actor = command.actor.user
    return [
        DeploymentCreated(
            deployment_id=command.deployment_id,
            label=command.label,
            description=command.description,
            importance=command.importance,
            status=DeploymentStatus.ACTIVE,
            model_package=command.model_package,
            prediction_environment=command.prediction_environment,
            created_by=actor,
            owners=tuple(owner for owner in dict.fromkeys(command.owners) if owner != actor),
            tags=command.tags,
            created_at=now,
        )
    ]
