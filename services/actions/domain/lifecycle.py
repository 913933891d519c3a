"""Running a deployment action (no change-request gate here): who may, in which state, and the events.

Checked in this order, so a caller learns no more than their role allows:
1. the deployment: unknown `not-found`; erased `deployment-erased` (nothing at all); deleted
   `deployment-deleted` (nothing but erase);
2. the caller's role (shared.domain.roles; CONSUMER may do nothing here, USER may share up to USER,
   OWNER everything but erase; an admin everything, and only an admin may erase): `forbidden`;
3. the state machine and the command's own rules: activate needs a deployment that is not active
   (`already-active`) nor still launching (`deployment-launching`); deactivate one that is not inactive
   (`already-inactive`); erase a deleted one (`not-deleted`); a change to what already is, `no-change`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.actions.domain import access, codes
from services.actions.domain.state import DeploymentState
from shared.contract import events as ev
from shared.contract.commands import actions as cmd
from shared.contract.events.values import DeploymentStatus, Role
from shared.domain.decider import Decision, Rejection
from shared.domain.roles import require, require_admin


def available(state: DeploymentState, *, for_erasure: bool = False) -> Rejection | None:
    """None when a command may be considered at all on the deployment in its state."""
    if not state.exists:
        return Rejection(codes.NOT_FOUND, f"deployment {state.deployment_id} is not known")
    if state.erased:
        return Rejection(codes.DEPLOYMENT_ERASED, f"deployment {state.deployment_id} was erased")
    if state.deleted and not for_erasure:
        return Rejection(codes.DEPLOYMENT_DELETED, f"deployment {state.deployment_id} is deleted; only erasure remains")
    return None


def run(state: DeploymentState, command: cmd.ActionsCommand) -> Decision:
    """The events `command` ends in if it ran now, or why it cannot (the change-request gate aside)."""
    refused = available(state, for_erasure=isinstance(command, cmd.EraseDeployment))
    if refused:
        return refused
    action = _ACTIONS.get(type(command))
    if action is None:
        return Rejection(codes.UNKNOWN_COMMAND, f"the actions service cannot run {command.type_name} on a deployment")
    return action(state, command)


def activate(state: DeploymentState, c: cmd.ActivateDeployment) -> Decision:
    refused = require(state, c.actor, Role.OWNER, "activating")
    if refused:
        return refused
    if state.status is DeploymentStatus.ACTIVE:
        return Rejection(codes.ALREADY_ACTIVE, f"deployment {state.deployment_id} is active already")
    if state.status is DeploymentStatus.LAUNCHING:
        return Rejection(
            codes.DEPLOYMENT_LAUNCHING, f"deployment {state.deployment_id} is still launching; it activates when ready"
        )
    return [ev.DeploymentActivated(deployment_id=c.deployment_id)]


def deactivate(state: DeploymentState, c: cmd.DeactivateDeployment) -> Decision:
    refused = require(state, c.actor, Role.OWNER, "deactivating")
    if refused:
        return refused
    if state.status is DeploymentStatus.INACTIVE:
        return Rejection(codes.ALREADY_INACTIVE, f"deployment {state.deployment_id} is inactive already")
    return [ev.DeploymentDeactivated(deployment_id=c.deployment_id)]


def delete(state: DeploymentState, c: cmd.DeleteDeployment) -> Decision:
    refused = require(state, c.actor, Role.OWNER, "deleting")
    return refused or [ev.DeploymentDeleted(deployment_id=c.deployment_id)]


def erase(state: DeploymentState, c: cmd.EraseDeployment) -> Decision:
    refused = require_admin(c.actor, "erasing a deployment")
    if refused:
        return refused
    if not state.deleted:
        return Rejection(
            codes.NOT_DELETED, f"deployment {state.deployment_id} is {state.status}; only a deleted one can be erased"
        )
    return [ev.DeploymentErased(deployment_id=c.deployment_id)]


def change_importance(state: DeploymentState, c: cmd.ChangeImportance) -> Decision:
    refused = require(state, c.actor, Role.OWNER, "changing the importance")
    if refused:
        return refused
    if state.importance is c.importance:
        return Rejection(codes.NO_CHANGE, f"deployment {state.deployment_id} is of importance {c.importance} already")
    return [ev.DeploymentImportanceChanged(deployment_id=c.deployment_id, importance=c.importance)]


def change_settings(state: DeploymentState, c: cmd.ChangeDeploymentSettings) -> Decision:
    refused = require(state, c.actor, Role.OWNER, "changing label, description or tags")
    if refused:
        return refused
    label = c.label if c.label is not None and c.label != state.label else None
    description = c.description if c.description is not None and c.description != state.description else None
    tags = c.tags if c.tags is not None and c.tags != state.tags else None
    if label is None and description is None and tags is None:
        return Rejection(codes.NO_CHANGE, f"deployment {state.deployment_id} has these settings already")
    return [
        ev.DeploymentSettingsChanged(deployment_id=c.deployment_id, label=label, description=description, tags=tags)
    ]


def clear_statistics(state: DeploymentState, c: cmd.ClearStatistics) -> Decision:
    refused = require(state, c.actor, Role.OWNER, "clearing statistics")
    return refused or [
        ev.DeploymentStatisticsCleared(
            deployment_id=c.deployment_id, model_package_id=c.model_package_id, start=c.start, end=c.end
        )
    ]


_ACTIONS: dict[type[Any], Callable[[DeploymentState, Any], Decision]] = {
    cmd.ActivateDeployment: activate,
    cmd.DeactivateDeployment: deactivate,
    cmd.DeleteDeployment: delete,
    cmd.EraseDeployment: erase,
    cmd.ChangeImportance: change_importance,
    cmd.ChangeDeploymentSettings: change_settings,
    cmd.ShareDeployment: access.share,
    cmd.RevokeAccess: access.revoke,
    cmd.ClearStatistics: clear_statistics,
}
RUNNABLE: tuple[type[cmd.ActionsCommand], ...] = tuple(_ACTIONS)
