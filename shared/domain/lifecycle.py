"""A deployment's status as every command side folds it from the deployment stream. Pure.

Deleted gives way only to erased, and erased to nothing, whatever order the events arrive in; erasure
leaves a tombstone (the id and the status), so nothing of the deployment's users stays in a state.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from shared.contract import events as ev
from shared.contract.events.values import DeploymentStatus
from shared.contract.messages import Event

S = TypeVar("S", bound=BaseModel)

STATUS_AFTER: dict[type[Event], DeploymentStatus] = {
    ev.DeploymentActivated: DeploymentStatus.ACTIVE,
    ev.DeploymentDeactivated: DeploymentStatus.INACTIVE,
    ev.DeploymentErrored: DeploymentStatus.ERRORED,
    ev.DeploymentDeleted: DeploymentStatus.DELETED,
    ev.DeploymentErased: DeploymentStatus.ERASED,
}
STATUS_EVENTS: tuple[type[Event], ...] = tuple(STATUS_AFTER)
_FINAL = {DeploymentStatus.DELETED: 1, DeploymentStatus.ERASED: 2}


def status_after(current: DeploymentStatus | None, message: Any) -> DeploymentStatus | None:
    """The status `message` leaves; None when it is no status event, or comes too late to change it."""
    status = STATUS_AFTER.get(type(message))
    if status is None:
        return None
    if current is not None and _FINAL.get(status, 0) < _FINAL.get(current, 0):
        return None
    return status


def with_status(state: S, status: DeploymentStatus) -> S:
    """`state` with its new status; for erasure, only the tombstone of its kind."""
    if status is DeploymentStatus.ERASED:
        return type(state).model_validate({**state.model_dump(include={"deployment_id"}), "status": status})
    return state.model_copy(update={"status": status})
