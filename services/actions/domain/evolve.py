"""How events change the actions service's view of a deployment. Pure: no I/O, no clock.

The service's own events are folded when they are decided; upstream ones (a serving platform's
`DeploymentCreated`) when they arrive on the deployment topic. Events not listed leave the state as it was.
"""

from __future__ import annotations

from typing import Any

from services.actions.domain.state import DeploymentState
from shared.contract import events as ev
from shared.contract.events.values import DeploymentStatus
from shared.contract.messages import Event
from shared.domain.recorded import Recorded

_STATUS_AFTER: dict[type[Any], DeploymentStatus] = {
    ev.DeploymentActivated: DeploymentStatus.ACTIVE,
    ev.DeploymentDeactivated: DeploymentStatus.INACTIVE,
    ev.DeploymentErrored: DeploymentStatus.ERRORED,
    ev.DeploymentDeleted: DeploymentStatus.DELETED,
    ev.DeploymentErased: DeploymentStatus.ERASED,
}
FOLDED: tuple[type[Event], ...] = (ev.DeploymentCreated, *_STATUS_AFTER)
"""The event types that change the state (the registry must parse them)."""
_FINAL = {DeploymentStatus.DELETED: 1, DeploymentStatus.ERASED: 2}
"""Deleted only gives way to erased, erased to nothing."""


def evolve(state: DeploymentState, event: Recorded[Event]) -> DeploymentState:
    message = event.message
    if isinstance(message, ev.DeploymentCreated):
        return _created(state, message, event)
    status = _STATUS_AFTER.get(type(message))
    if status is None or state.status is None:
        return state
    if _FINAL.get(status, 0) < _FINAL.get(state.status, 0):
        return state
    return state.model_copy(update={"status": status})


def _created(state: DeploymentState, e: ev.DeploymentCreated, event: Recorded[Event]) -> DeploymentState:
    if state.exists:
        return state  # the first creation stands; a second one of the same id is refused or a producer bug
    return state.model_copy(
        update={
            "status": e.status,
            "label": e.label,
            "importance": e.importance,
            "created_by": e.created_by,
            "created_at": e.created_at or event.time,
            "owners": tuple(dict.fromkeys([e.created_by, *e.owners])),
        }
    )
