"""What a command means for a deployment now: the events it ends in, or why it is refused. Pure."""

from __future__ import annotations

from datetime import datetime

from services.actions.domain.state import DeploymentState
from shared.contract.commands.actions import ActionsCommand, RegisterDeployment
from shared.contract.events import DeploymentCreated
from shared.contract.events.values import DeploymentStatus
from shared.domain.decider import Decision, Rejection


def decide(state: DeploymentState, command: ActionsCommand, now: datetime) -> Decision:
    if isinstance(command, RegisterDeployment):
        return register(state, command, now)
    return Rejection("unknown-command", f"the actions service does not handle {command.type_name}")


def register(state: DeploymentState, command: RegisterDeployment, now: datetime) -> Decision:
    if state.exists:
        return Rejection(
            "already-exists",
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
