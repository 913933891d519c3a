"""A deployment's audit trail, from its messages in the log: who did what, when and why, the command that
caused each event, and each command's outcome. Pure: no I/O (the log is read by tools.cli.log).

Events are folded with the inventory's own `evolve` as the trail goes, so a change can be told with the
value it replaced ("importance LOW -> HIGH"), as the inventory saw it at that moment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from services.inventory.domain.evolve import evolve
from services.inventory.domain.state import DeploymentView
from shared.contract import events as ev
from shared.contract.messages import Command, Message
from shared.messaging.consumer import Inbound

WHY_FIELDS = ("reason", "note", "comment", "message", "error")
"""Payload fields that say why, shown in their own column when not empty."""


@dataclasses.dataclass(frozen=True)
class Entry:
    time: datetime
    id: str
    kind: str  # "event" or "command"
    type: str
    actor: str | None
    summary: str
    why: str
    topic: str
    correlation_id: str | None
    command_id: str | None
    """The command that caused this event, or this command's own id."""
    command_type: str | None
    outcome: str | None
    """For a command: completed (with its events), rejected (code: reason), held, or pending."""

    def json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def trail(items: Sequence[Inbound]) -> list[Entry]:
    """Entries oldest first by (event time, id): the order the inventory's last-writer-wins uses too."""
    ordered = sorted(items, key=lambda item: (item.envelope.time, item.envelope.id))
    commands = {item.envelope.id: item.message for item in ordered if isinstance(item.message, Command)}
    caused: dict[str, list[Inbound]] = {}
    for item in ordered:
        if item.envelope.causationid and not isinstance(item.message, Command):
            caused.setdefault(item.envelope.causationid, []).append(item)
    entries = []
    view: DeploymentView | None = None
    for item in ordered:
        e, message = item.envelope, item.message
        command_id: str | None
        command_type: str | None
        if isinstance(message, Command):
            summary, outcome = f"requested {_fields(message)}".rstrip(), _outcome(caused.get(e.id, []))
            command_id, command_type = e.id, message.type_name
        else:
            before, view = view, evolve(view, item.recorded)
            summary, outcome = describe(message, before, view), None
            command_id = e.causationid
            cause = commands.get(e.causationid or "")
            command_type = cause.type_name if cause else getattr(message, "command_type", None)
        entries.append(
            Entry(
                time=e.time,
                id=e.id,
                kind="command" if isinstance(message, Command) else "event",
                type=e.type,
                actor=e.actor,
                summary=summary,
                why=_why(message),
                topic=item.position.topic,
                correlation_id=e.correlationid,
                command_id=command_id,
                command_type=command_type,
                outcome=outcome,
            )
        )
    return entries


def _outcome(events: list[Inbound]) -> str:
    for item in events:
        if isinstance(item.message, ev.CommandRejected):
            return f"rejected ({item.message.code}): {item.message.reason}"
        if isinstance(item.message, ev.ModelReplacementRejected):
            return f"rejected: {item.message.reason}"
        if isinstance(item.message, ev.ChangeRequestOpened):
            return f"held for approval: change request {item.message.change_request_id}"
    if events:
        return f"completed: {', '.join(item.envelope.type for item in events)}"
    return "pending: no outcome in the log yet"


def _why(message: Message) -> str:
    values = [getattr(message, name, None) for name in WHY_FIELDS]
    return "; ".join(str(value) for value in values if value not in (None, ""))


def describe(message: Message, before: DeploymentView | None, after: DeploymentView) -> str:
    """A short line about what the event changed."""
    describer = _DESCRIBERS.get(type(message))
    if describer is not None:
        return describer(message, before or DeploymentView(deployment_id=after.deployment_id), after)
    if isinstance(message, ev.HealthReport):
        was = getattr(before.health, message.dimension).status if before else "unknown"
        return f"{message.dimension} health {was} -> {message.status}"
    return _fields(message)


def _status(_: Any, before: DeploymentView, after: DeploymentView) -> str:
    return f"status {before.status or '-'} -> {after.status or '-'}"


def _created(e: ev.DeploymentCreated, _: DeploymentView, __: DeploymentView) -> str:
    return (
        f"created {e.label!r}: model {e.model_package.name} ({e.model_package.id}), importance {e.importance}, "
        f"status {e.status}, on {e.prediction_environment.name}"
    )


def _settings(e: ev.DeploymentSettingsChanged, before: DeploymentView, after: DeploymentView) -> str:
    changes = []
    if e.label is not None:
        changes.append(f"label {before.label!r} -> {after.label!r}")
    if e.description is not None:
        changes.append("description changed")
    if e.tags is not None:
        changes.append(f"tags -> {', '.join(f'{t.name}:{t.value}' for t in e.tags) or 'none'}")
    return "; ".join(changes) or "settings unchanged"


def _replaced(e: ev.ModelReplaced, before: DeploymentView, _: DeploymentView) -> str:
    previous = e.previous_model_package_id or (before.model_package.id if before.model_package else "-")
    extras = [f"reason {e.reason}"]
    if e.rollback:
        extras.append("rollback")
    if e.validation_status:
        extras.append(f"checks {e.validation_status}")
    if e.challenger_id:
        extras.append(f"challenger {e.challenger_id} promoted")
    return f"model {previous} -> {e.model_package.id}, {', '.join(extras)}"


_DESCRIBERS: dict[type[Message], Callable[[Any, DeploymentView, DeploymentView], str]] = {
    ev.DeploymentCreated: _created,
    ev.DeploymentActivated: _status,
    ev.DeploymentDeactivated: _status,
    ev.DeploymentErrored: _status,
    ev.DeploymentDeleted: _status,
    ev.DeploymentErased: _status,
    ev.DeploymentImportanceChanged: lambda e, b, a: f"importance {b.importance or '-'} -> {e.importance}",
    ev.DeploymentSettingsChanged: _settings,
    ev.DeploymentShared: lambda e, b, a: f"{e.principal_type.lower()} {e.principal} granted {e.role}",
    ev.DeploymentAccessRevoked: lambda e, b, a: f"access of {e.principal} revoked",
    ev.ModelReplaced: _replaced,
    ev.ModelReplacementValidated: lambda e, b, a: f"replacement by {e.model_package_id} checked: {e.status}",
    ev.ModelReplacementRejected: lambda e, b, a: f"replacement by {e.model_package_id} refused",
    ev.ChallengerAdded: lambda e, b, a: f"challenger {e.challenger_id} added: {e.model_package.id}",
    ev.ChallengerRemoved: lambda e, b, a: f"challenger {e.challenger_id} {'promoted' if e.promoted else 'removed'}",
    ev.ChangeRequestOpened: lambda e, b, a: (
        f"change request {e.change_request_id} opened: {e.action} by {e.requested_by}, expires {e.expires_at:%F %R}"
    ),
    ev.ChangeRequestApproved: lambda e, b, a: f"change request {e.change_request_id} approved by {e.approved_by}",
    ev.ChangeRequestRejected: lambda e, b, a: f"change request {e.change_request_id} rejected by {e.rejected_by}",
    ev.ChangeRequestCanceled: lambda e, b, a: f"change request {e.change_request_id} canceled by {e.canceled_by}",
    ev.ChangeRequestExpired: lambda e, b, a: f"change request {e.change_request_id} expired",
    ev.CommandRejected: lambda e, b, a: f"{e.command_type} {e.command_id} rejected ({e.code})",
    ev.PredictionsRecorded: lambda e, b, a: f"{e.count} predictions at {e.predicted_at:%F %T}",
}

_NOT_SUMMARISED = {"deployment_id", "command_id", "actor", *WHY_FIELDS}


def _fields(message: Message) -> str:
    """The payload's plain values (ids, statuses, names), for types without a describer of their own."""
    data = message.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    parts = []
    for name, value in data.items():
        if name in _NOT_SUMMARISED:
            continue
        if isinstance(value, dict) and "id" in value:
            value = value["id"]
        if isinstance(value, (str, int, float, bool)):
            parts.append(f"{name} {value}")
    text = ", ".join(parts)
    return text if len(text) <= 100 else text[:99] + "…"
