"""How events change the actions service's view of a deployment. Pure: no I/O, no clock.

The service's own events are folded when they are decided; upstream ones (a serving platform's
`DeploymentCreated` or status changes, another service's change requests) when they arrive on the
deployment topic, in the topic's order. Rules that keep the view sane whatever a producer sends:
- nothing but `DeploymentCreated` brings an id into existence, and the first creation stands;
- deleted gives way only to erased; erased leaves a tombstone (id and status) that nothing changes;
- a change request is opened once and closed once: the first closing event stands, a closing event
  for a request not (yet) known is ignored; only the newest closed requests are kept.
Events not listed leave the state as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.actions.domain.state import ChangeRequest, ChangeRequestStatus, DeploymentState, Grant
from shared.contract import events as ev
from shared.contract.events.values import Role
from shared.contract.messages import Event
from shared.domain.fold import utc_ms
from shared.domain.lifecycle import STATUS_EVENTS, status_after, with_status
from shared.domain.recorded import Recorded

CLOSED_KEPT = 50
"""Closed change requests kept in the state (for `change-request-closed` answers and listings); the log keeps all."""


_CLOSED_AS: dict[type[Any], ChangeRequestStatus] = {
    ev.ChangeRequestApproved: ChangeRequestStatus.APPROVED,
    ev.ChangeRequestRejected: ChangeRequestStatus.REJECTED,
    ev.ChangeRequestCanceled: ChangeRequestStatus.CANCELED,
    ev.ChangeRequestExpired: ChangeRequestStatus.EXPIRED,
}


def evolve(state: DeploymentState, event: Recorded[Event]) -> DeploymentState:
    message = event.message
    if isinstance(message, ev.DeploymentCreated):
        return _created(state, message, event)
    if not state.exists or state.erased:
        return state
    if isinstance(message, STATUS_EVENTS):
        status = status_after(state.status, message)
        return with_status(state, status) if status is not None else state
    closed_as = _CLOSED_AS.get(type(message))
    if closed_as is not None:
        return _closed(state, message, closed_as, event)
    fold = _FOLDS.get(type(message))
    return fold(state, message, event) if fold else state


def _created(state: DeploymentState, e: ev.DeploymentCreated, event: Recorded[Event]) -> DeploymentState:
    if state.exists:
        return state  # the first creation stands; a second one of the same id is refused or a producer bug
    owners = dict.fromkeys([e.created_by, *e.owners])
    return state.model_copy(
        update={
            "status": e.status,
            "label": e.label,
            "description": e.description,
            "tags": e.tags,
            "importance": e.importance,
            "created_by": e.created_by,
            "created_at": e.created_at or event.time,
            "grants": tuple(sorted((Grant(principal=p, role=Role.OWNER) for p in owners), key=_by_principal)),
        }
    )


def _importance(state: DeploymentState, e: ev.DeploymentImportanceChanged, _: Recorded[Event]) -> DeploymentState:
    return state.model_copy(update={"importance": e.importance})


def _settings(state: DeploymentState, e: ev.DeploymentSettingsChanged, _: Recorded[Event]) -> DeploymentState:
    given = {"label": e.label, "description": e.description, "tags": e.tags}
    return state.model_copy(update={field: value for field, value in given.items() if value is not None})


def _shared(state: DeploymentState, e: ev.DeploymentShared, _: Recorded[Event]) -> DeploymentState:
    grant = Grant(principal=e.principal, principal_type=e.principal_type, role=e.role)
    others = [g for g in state.grants if g.principal != e.principal]
    return state.model_copy(update={"grants": tuple(sorted([*others, grant], key=_by_principal))})


def _revoked(state: DeploymentState, e: ev.DeploymentAccessRevoked, _: Recorded[Event]) -> DeploymentState:
    return state.model_copy(update={"grants": tuple(g for g in state.grants if g.principal != e.principal)})


def _opened(state: DeploymentState, e: ev.ChangeRequestOpened, event: Recorded[Event]) -> DeploymentState:
    if state.change_request(e.change_request_id) is not None:
        return state  # opened once
    request = ChangeRequest(
        id=e.change_request_id,
        action=e.action,
        command_version=e.command_version,
        command_stream=e.command_stream,
        command=e.command,
        requested_by=e.requested_by,
        requested_at=utc_ms(event.time),
        expires_at=e.expires_at,
        reason=e.reason,
    )
    return state.model_copy(update={"change_requests": (*state.change_requests, request)})


def _closed(state: DeploymentState, e: Event, status: ChangeRequestStatus, event: Recorded[Event]) -> DeploymentState:
    request = state.change_request(getattr(e, "change_request_id", ""))
    if request is None or not request.is_open:
        return state  # unknown, or closed already: the first closing stands
    by, comment = _closer(e)
    closed = request.model_copy(
        update={"status": status, "closed_by": by, "closed_at": utc_ms(event.time), "comment": comment}
    )
    requests = [closed if r.id == request.id else r for r in state.change_requests]
    closed_ids = [r.id for r in requests if not r.is_open]
    dropped = set(closed_ids[: max(0, len(closed_ids) - CLOSED_KEPT)])  # the earliest opened go first
    return state.model_copy(update={"change_requests": tuple(r for r in requests if r.id not in dropped)})


def _closer(e: Event) -> tuple[str | None, str]:
    """Who closed a change request, and their comment (an expiry has neither)."""
    if isinstance(e, ev.ChangeRequestApproved):
        return e.approved_by, e.comment
    if isinstance(e, ev.ChangeRequestRejected):
        return e.rejected_by, e.comment
    if isinstance(e, ev.ChangeRequestCanceled):
        return e.canceled_by, ""
    return None, ""


def _by_principal(grant: Grant) -> str:
    return grant.principal


_FOLDS: dict[type[Any], Callable[[DeploymentState, Any, Recorded[Event]], DeploymentState]] = {
    ev.DeploymentImportanceChanged: _importance,
    ev.DeploymentSettingsChanged: _settings,
    ev.DeploymentShared: _shared,
    ev.DeploymentAccessRevoked: _revoked,
    ev.ChangeRequestOpened: _opened,
}

FOLDED: tuple[type[Event], ...] = (ev.DeploymentCreated, *STATUS_EVENTS, *_CLOSED_AS, *_FOLDS)
"""The event types that change the state (the registry must parse them)."""
