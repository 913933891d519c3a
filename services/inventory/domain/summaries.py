"""What each event says in a deployment's audit trail, from the event alone (pure, no state).

Each describer returns the entry's `text`, the tracked values the event sets (`changes`) and why
(`reason`). A text may hold `{was:KEY}` where the value KEY had before shows ("importance LOW → HIGH"):
it is filled when the trail is read (services.inventory.domain.trail), from the entries before it,
because an entry folded out of order cannot know its predecessor when it arrives.

Predictions are usage, not history: they have no entry. An event type with no describer here is
listed by its type name alone, so a new event on the deployment stream still shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from shared.contract import events as ev
from shared.contract.messages import Message

TEXT_LIMIT = 160
REASON_LIMIT = 300


@dataclasses.dataclass(frozen=True, slots=True)
class Said:
    text: str
    changes: tuple[tuple[str, str], ...] = ()
    reason: str | None = None


Describe = Callable[[Any], Said]


def was(key: str) -> str:
    """The place in a text where the value `key` had before is shown."""
    return f"{{was:{key}}}"


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(text: str | None) -> str | None:
    return clip(text, REASON_LIMIT) if text else None


def _set(key: str, value: str, name: str, *, after: str = "", reason: str | None = None) -> Said:
    """An event that sets a tracked value: "NAME [BEFORE → ]VALUE AFTER"."""
    return Said(clip(f"{name} {was(key)}{value}{after}"), ((key, value),), _reason(reason))


# ---------------------------------------------------------------- lifecycle and settings


def _created(e: ev.DeploymentCreated) -> Said:
    label = f"“{clip(e.label, 60)}”"
    text = f"created {label} serving {e.model_package.id}, {e.importance}, {e.status}"
    changes = (("status", str(e.status)), ("importance", str(e.importance)), ("model", e.model_package.id))
    return Said(clip(text), (*changes, ("label", label)))


def _status(value: str) -> Describe:
    return lambda e: _set("status", value, "status", reason=getattr(e, "message", None))


def _importance(e: ev.DeploymentImportanceChanged) -> Said:
    return _set("importance", str(e.importance), "importance")


def _settings(e: ev.DeploymentSettingsChanged) -> Said:
    parts, changes = [], []
    if e.label is not None:
        parts.append(f"label {was('label')}“{clip(e.label, 60)}”")
        changes.append(("label", f"“{clip(e.label, 60)}”"))
    if e.description is not None:
        parts.append("description changed")
    if e.tags is not None:
        parts.append("tags " + (", ".join(f"{t.name}:{t.value}" if t.value else t.name for t in e.tags) or "none"))
    return Said(clip("; ".join(parts) or "settings unchanged"), tuple(changes))


def _shared(e: ev.DeploymentShared) -> Said:
    return Said(clip(f"shared with {e.principal_type} {e.principal} as {e.role}"))


def _revoked(e: ev.DeploymentAccessRevoked) -> Said:
    return Said(clip(f"access of {e.principal} revoked"))


def _cleared(e: ev.DeploymentStatisticsCleared) -> Said:
    if e.start is None and e.end is None:
        # A clear of all time resets every dimension's health: the next report is a change from unknown.
        reset = tuple((f"health.{dimension}", "unknown") for dimension in ev.monitoring.HEALTH_DIMENSIONS)
        return Said("statistics cleared", reset)
    start = e.start.isoformat() if e.start else "the start"
    end = e.end.isoformat() if e.end else "now"
    return Said(f"statistics cleared from {start} to {end}")


# ---------------------------------------------------------------- model


def _replaced(e: ev.ModelReplaced) -> Said:
    how = f" ({e.reason}{', rollback' if e.rollback else ''})"
    promoted = f", challenger {e.challenger_id} promoted" if e.challenger_id else ""
    return _set("model", e.model_package.id, "model", after=how + promoted, reason=e.note)


def _validated(e: ev.ModelReplacementValidated) -> Said:
    return Said(clip(f"replacement by {e.model_package_id} checked: {e.status}"))


def _replacement_rejected(e: ev.ModelReplacementRejected) -> Said:
    return Said(clip(f"replacement by {e.model_package_id} refused"), reason=_reason(e.reason))


def _challenger_added(e: ev.ChallengerAdded) -> Said:
    return Said(clip(f"challenger {e.challenger_id} added ({e.model_package.id})"))


def _challenger_removed(e: ev.ChallengerRemoved) -> Said:
    return Said(clip(f"challenger {e.challenger_id} {'promoted' if e.promoted else 'removed'}"))


# ---------------------------------------------------------------- monitoring


def _health(e: ev.HealthReport) -> Said:
    key = f"health.{e.dimension}"
    return _set(key, str(e.status), e.dimension, reason=e.message)


# ---------------------------------------------------------------- commands and change requests


def _command_rejected(e: ev.CommandRejected) -> Said:
    return Said(clip(f"command {e.command_type} refused ({e.code})"), reason=_reason(e.reason))


def _request_opened(e: ev.ChangeRequestOpened) -> Said:
    text = f"change request {e.change_request_id} opened by {e.requested_by}: {e.action}"
    return Said(clip(text), reason=_reason(e.reason))


def _request_decided(verb: str, by: str | None) -> Describe:
    def describe(e: Any) -> Said:
        who = f" by {getattr(e, by)}" if by else ""
        text = clip(f"change request {e.change_request_id} {verb}{who}")
        return Said(text, reason=_reason(getattr(e, "comment", "")))

    return describe


# ---------------------------------------------------------------- retraining


def _retraining_settings(e: ev.RetrainingSettingsChanged) -> Said:
    return Said(clip(f"retraining settings: dataset {e.dataset_id}, acting as {e.retraining_user}"))


def _policy(verb: str) -> Describe:
    def describe(e: Any) -> Said:
        name = f" “{clip(e.name, 60)}”" if hasattr(e, "name") else ""
        return Said(clip(f"retraining policy {e.policy_id} {verb}{name}"))

    return describe


def _run_started(e: ev.RetrainingRunStarted) -> Said:
    cause = f", {e.cause}" if e.cause else ""
    return Said(clip(f"retraining run {e.run_id} started ({e.trigger}{cause}, policy {e.policy_id})"))


def _run_step(e: ev.RetrainingRunStepChanged) -> Said:
    return Said(clip(f"retraining run {e.run_id}: {e.step}"))


def _run_succeeded(e: ev.RetrainingRunSucceeded) -> Said:
    made = f", package {e.model_package_id}" if e.model_package_id else ""
    return Said(clip(f"retraining run {e.run_id} succeeded{made}"))


def _run_failed(e: ev.RetrainingRunFailed) -> Said:
    code = f" ({e.code})" if e.code else ""
    return Said(clip(f"retraining run {e.run_id} failed{code}"), reason=_reason(e.error))


def _run_canceled(e: ev.RetrainingRunCanceled) -> Said:
    by = f" by {e.canceled_by}" if e.canceled_by else ""
    return Said(clip(f"retraining run {e.run_id} canceled{by}"))


DESCRIBERS: dict[type[Any], Describe] = {
    ev.DeploymentCreated: _created,
    ev.DeploymentActivated: _status("active"),
    ev.DeploymentDeactivated: _status("inactive"),
    ev.DeploymentErrored: _status("errored"),
    ev.DeploymentDeleted: _status("deleted"),
    ev.DeploymentImportanceChanged: _importance,
    ev.DeploymentSettingsChanged: _settings,
    ev.DeploymentShared: _shared,
    ev.DeploymentAccessRevoked: _revoked,
    ev.DeploymentStatisticsCleared: _cleared,
    ev.ModelReplaced: _replaced,
    ev.ModelReplacementValidated: _validated,
    ev.ModelReplacementRejected: _replacement_rejected,
    ev.ChallengerAdded: _challenger_added,
    ev.ChallengerRemoved: _challenger_removed,
    **{report: _health for report in ev.monitoring.HEALTH_REPORTS},
    ev.CommandRejected: _command_rejected,
    ev.ChangeRequestOpened: _request_opened,
    ev.ChangeRequestApproved: _request_decided("approved", "approved_by"),
    ev.ChangeRequestRejected: _request_decided("rejected", "rejected_by"),
    ev.ChangeRequestCanceled: _request_decided("canceled", "canceled_by"),
    ev.ChangeRequestExpired: _request_decided("expired", None),
    ev.RetrainingSettingsChanged: _retraining_settings,
    ev.RetrainingPolicyCreated: _policy("created"),
    ev.RetrainingPolicyUpdated: _policy("updated"),
    ev.RetrainingPolicyDeleted: _policy("deleted"),
    ev.RetrainingRunStarted: _run_started,
    ev.RetrainingRunStepChanged: _run_step,
    ev.RetrainingRunSucceeded: _run_succeeded,
    ev.RetrainingRunFailed: _run_failed,
    ev.RetrainingRunCanceled: _run_canceled,
}
UNTRAILED: tuple[type[Any], ...] = (ev.PredictionsRecorded, ev.DeploymentErased)
"""Usage, and erasure (which leaves nothing, its own entry included)."""


def said(message: Message) -> Said | None:
    """What the trail says of `message`; None for events it leaves out."""
    if isinstance(message, UNTRAILED):
        return None
    describe = DESCRIBERS.get(type(message))
    return describe(message) if describe else Said(message.type_name)


ACTOR_FIELDS = ("actor", "requested_by", "approved_by", "rejected_by", "canceled_by", "started_by", "created_by")
"""Where an event names who did it, when its envelope does not."""


def named_actor(message: Message) -> str | None:
    for name in ACTOR_FIELDS:
        value = getattr(message, name, None)
        if isinstance(value, str) and value:
            return value
    return None
