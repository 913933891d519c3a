"""How events change the replacement service's view of a deployment. Pure: no I/O, no clock.

The service's own events are folded when they are decided; upstream ones (creation, status, importance,
sharing from the deployment stream; change-request reviews from the actions service) when they arrive.
Events of one deployment reach the service in log order, so the rules are sequential:
- the first creation stands; deleted only gives way to erased, and erased leaves a tombstone (id and status);
- a grant is per principal, a revocation removes it;
- `ModelReplaced` ends the champion's entry in the history and starts the new one; a rollback entry
  points its own rollback at the entry before the one it restored, so rollbacks walk back in time;
  model events about a deployment the service has not seen are ignored, as is an event folded before (by id);
- change requests are tracked only when they hold one of this service's commands.
"""

from __future__ import annotations

from typing import Any

from services.replacement.domain.state import (
    Challenger,
    ChangeRequestStatus,
    Grant,
    HeldCommand,
    HistoryEntry,
    ModelAction,
    ReplacementState,
)
from shared.contract import events as ev
from shared.contract.events.values import DeploymentStatus, Role
from shared.contract.messages import Event
from shared.contract.topology import Stream
from shared.domain.lifecycle import STATUS_EVENTS, status_after, with_status
from shared.domain.recorded import Recorded

_CLOSED_BY: dict[type[Any], ChangeRequestStatus] = {
    ev.ChangeRequestApproved: ChangeRequestStatus.APPROVED,
    ev.ChangeRequestRejected: ChangeRequestStatus.REJECTED,
    ev.ChangeRequestCanceled: ChangeRequestStatus.CANCELED,
    ev.ChangeRequestExpired: ChangeRequestStatus.EXPIRED,
}
_CLOSED_KEPT = 20
"""Closed change requests kept (the newest), besides open and approved-not-run ones."""

FOLDED: tuple[type[Event], ...] = (
    ev.DeploymentCreated,
    *STATUS_EVENTS,
    ev.DeploymentImportanceChanged,
    ev.DeploymentShared,
    ev.DeploymentAccessRevoked,
    ev.ModelReplaced,
    ev.ModelReplacementRejected,
    ev.ChallengerAdded,
    ev.ChallengerRemoved,
    ev.ChangeRequestOpened,
    *_CLOSED_BY,
)
"""The event types that change the state (the registry must parse them)."""


def evolve(state: ReplacementState, event: Recorded[Event]) -> ReplacementState:
    message = event.message
    if isinstance(message, ev.DeploymentCreated):
        return _created(state, message, event)
    if not state.exists or state.status is DeploymentStatus.ERASED:
        return state
    if isinstance(message, STATUS_EVENTS):
        status = status_after(state.status, message)
        return with_status(state, status) if status is not None else state
    if isinstance(message, ev.DeploymentImportanceChanged):
        return state.model_copy(update={"importance": message.importance})
    if isinstance(message, ev.DeploymentShared):
        grant = Grant(principal=message.principal, principal_type=message.principal_type, role=message.role)
        return state.model_copy(update={"grants": (*_without(state.grants, message.principal), grant)})
    if isinstance(message, ev.DeploymentAccessRevoked):
        return state.model_copy(update={"grants": _without(state.grants, message.principal)})
    if isinstance(message, ev.ModelReplaced):
        return _replaced(state, message, event)
    if isinstance(message, ev.ModelReplacementRejected):
        return _ran(state, message.change_request_id)
    if isinstance(message, ev.ChallengerAdded):
        added = Challenger(
            id=message.challenger_id, model_package=message.model_package, added_at=event.time, added_by=event.actor
        )
        return state.model_copy(update={"challengers": (*_other_challengers(state, message.challenger_id), added)})
    if isinstance(message, ev.ChallengerRemoved):
        return state.model_copy(update={"challengers": _other_challengers(state, message.challenger_id)})
    if isinstance(message, ev.ChangeRequestOpened):
        return _opened(state, message)
    if (closed := _CLOSED_BY.get(type(message))) is not None:
        return _closed(state, getattr(message, "change_request_id", ""), closed)
    return state


def _created(state: ReplacementState, e: ev.DeploymentCreated, event: Recorded[Event]) -> ReplacementState:
    if state.exists:
        return state  # the first creation stands
    owners = dict.fromkeys([e.created_by, *e.owners])
    deployed = HistoryEntry(
        action=ModelAction.DEPLOYED,
        model_package=e.model_package,
        actor=event.actor or e.created_by,
        started_at=e.created_at or event.time,
        event_id=event.id,
    )
    return state.model_copy(
        update={
            "status": e.status,
            "importance": e.importance,
            "grants": tuple(Grant(principal=owner, role=Role.OWNER) for owner in owners),
            "champion": e.model_package,
            "history": (deployed,),
        }
    )


def _replaced(state: ReplacementState, e: ev.ModelReplaced, event: Recorded[Event]) -> ReplacementState:
    if any(entry.event_id == event.id for entry in state.history):
        return state
    history = list(state.history)
    last = len(history) - 1
    rollback_to: int | None = last if history else None
    target = history[last].rollback_to if history else None
    if e.rollback and target is not None and history[target].model_package.id == e.model_package.id:
        rollback_to = history[target].rollback_to
    if history:
        history[last] = history[last].model_copy(update={"ended_at": event.time})
    action = (
        ModelAction.ROLLED_BACK if e.rollback else ModelAction.PROMOTED if e.challenger_id else ModelAction.REPLACED
    )
    history.append(
        HistoryEntry(
            action=action,
            model_package=e.model_package,
            reason=e.reason,
            note=e.note,
            actor=e.actor or event.actor,
            validation_status=e.validation_status,
            checks=e.checks,
            started_at=event.time,
            event_id=event.id,
            challenger_id=e.challenger_id,
            change_request_id=e.change_request_id,
            rollback_to=rollback_to,
        )
    )
    changed = state.model_copy(update={"champion": e.model_package, "history": tuple(history)})
    return _ran(changed, e.change_request_id)


def _opened(state: ReplacementState, e: ev.ChangeRequestOpened) -> ReplacementState:
    if e.command_stream is not Stream.REPLACEMENT_COMMANDS or state.held_command(e.change_request_id) is not None:
        return state
    held = HeldCommand(
        change_request_id=e.change_request_id,
        action=e.action,
        command_version=e.command_version,
        command=e.command,
        requested_by=e.requested_by,
        expires_at=e.expires_at,
    )
    return state.model_copy(update={"held": _pruned((*state.held, held))})


def _closed(state: ReplacementState, change_request_id: str, status: ChangeRequestStatus) -> ReplacementState:
    held = state.held_command(change_request_id)
    if held is None or held.status is not ChangeRequestStatus.OPEN:
        return state
    return _held_changed(state, held.model_copy(update={"status": status}))


def _ran(state: ReplacementState, change_request_id: str | None) -> ReplacementState:
    held = state.held_command(change_request_id) if change_request_id else None
    return state if held is None else _held_changed(state, held.model_copy(update={"ran": True}))


def _held_changed(state: ReplacementState, changed: HeldCommand) -> ReplacementState:
    held = tuple(changed if h.change_request_id == changed.change_request_id else h for h in state.held)
    return state.model_copy(update={"held": _pruned(held)})


def _pruned(held: tuple[HeldCommand, ...]) -> tuple[HeldCommand, ...]:
    """Keep what may still run (open, or approved and not run) and the newest closed ones."""
    live = [
        h
        for h in held
        if h.status is ChangeRequestStatus.OPEN or (h.status is ChangeRequestStatus.APPROVED and not h.ran)
    ]
    done = [h for h in held if h not in live][-_CLOSED_KEPT:]
    return tuple(h for h in held if h in live or h in done)


def _without(grants: tuple[Grant, ...], principal: str) -> tuple[Grant, ...]:
    return tuple(grant for grant in grants if grant.principal != principal)


def _other_challengers(state: ReplacementState, challenger_id: str) -> tuple[Challenger, ...]:
    return tuple(c for c in state.challengers if c.id != challenger_id)
