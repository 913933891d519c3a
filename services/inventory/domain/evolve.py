"""Pure inventory logic: how each event changes the view of a deployment. No I/O, no clock.

Events of one deployment arrive in order within a topic, but the deployment and monitoring topics
interleave freely. Rules that involve both are order-independent: health keeps the latest report by
event time, prediction counts are sums, so a replay gives the same documents as the live run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from services.inventory.domain.state import (
    HEALTH_RANK,
    Access,
    Challenger,
    DeploymentView,
    Health,
    HealthByDimension,
    ModelHistoryEntry,
    Predictions,
    RetrainingRun,
    reindex,
)
from shared.contract import events as ev
from shared.contract.events.retraining import RunStatus
from shared.contract.events.values import DeploymentStatus, Role
from shared.domain.recorded import Recorded

Rule = Callable[[DeploymentView, Any, Recorded[Any]], DeploymentView]
_CLOSED = (DeploymentStatus.DELETED, DeploymentStatus.ERASED)


def evolve(view: DeploymentView | None, event: Recorded[Any]) -> DeploymentView:
    """Apply one event; events the inventory does not track leave the view as it was."""
    current = view or DeploymentView(deployment_id=event.subject)
    rule = RULES.get(type(event.message))
    if rule is None:
        return current
    return reindex(rule(current, event.message, event))


def _created(view: DeploymentView, e: ev.DeploymentCreated, env: Recorded[Any]) -> DeploymentView:
    if view.created:
        return view  # a second creation of the same id is a producer bug; the first one stands
    created_at = e.created_at or env.time
    owners = dict.fromkeys([e.created_by, *e.owners])
    access = [Access(principal=p, role=Role.OWNER) for p in owners]
    access += [a for a in view.access if a.principal not in owners]
    entry = ModelHistoryEntry(
        action="deployed",
        model_package=e.model_package,
        actor=env.actor or e.created_by,
        started_at=created_at,
        event_id=env.id,
    )
    return view.model_copy(
        update={
            "created": True,
            "label": e.label,
            "description": e.description,
            "importance": e.importance,
            "status": e.status,
            "model_package": e.model_package,
            "prediction_environment": e.prediction_environment,
            "access": access,
            "tags": list(e.tags),
            "created_at": created_at,
            "created_by": e.created_by,
            "model_deployed_at": created_at,
            "model_history": [entry, *view.model_history],
        }
    )


def _status(status: DeploymentStatus) -> Rule:
    def rule(view: DeploymentView, _: Any, __: Recorded[Any]) -> DeploymentView:
        if view.status in _CLOSED and status is not DeploymentStatus.ERASED:
            return view  # a deleted deployment only moves on to erasure
        return view.model_copy(update={"status": status})

    return rule


def _erased(view: DeploymentView, _: ev.DeploymentErased, __: Recorded[Any]) -> DeploymentView:
    # Erasure keeps only the id and the fact, so redelivered old events cannot resurrect it.
    return DeploymentView(deployment_id=view.deployment_id, created=view.created, status=DeploymentStatus.ERASED)


def _importance(view: DeploymentView, e: ev.DeploymentImportanceChanged, _: Recorded[Any]) -> DeploymentView:
    return view.model_copy(update={"importance": e.importance})


def _settings(view: DeploymentView, e: ev.DeploymentSettingsChanged, _: Recorded[Any]) -> DeploymentView:
    changes: dict[str, Any] = {"label": e.label, "description": e.description}
    changes = {key: value for key, value in changes.items() if value is not None}
    if e.tags is not None:
        changes["tags"] = list(e.tags)
    return view.model_copy(update=changes)


def _shared(view: DeploymentView, e: ev.DeploymentShared, _: Recorded[Any]) -> DeploymentView:
    others = [a for a in view.access if a.principal != e.principal]
    grant = Access(principal=e.principal, principal_type=e.principal_type, role=e.role)
    return view.model_copy(update={"access": [*others, grant]})


def _revoked(view: DeploymentView, e: ev.DeploymentAccessRevoked, _: Recorded[Any]) -> DeploymentView:
    return view.model_copy(update={"access": [a for a in view.access if a.principal != e.principal]})


def _statistics_cleared(view: DeploymentView, e: ev.DeploymentStatisticsCleared, _: Recorded[Any]) -> DeploymentView:
    if e.start is None and e.end is None:
        return view.model_copy(update={"predictions": Predictions(), "health": HealthByDimension()})
    first = e.start.date().isoformat() if e.start else ""
    # The range is [start, end): the day of `end` is touched only if `end` is past its midnight.
    last = (e.end - timedelta(microseconds=1)).date().isoformat() if e.end else "9999-12-31"
    # Counts are kept per UTC day, so a range clears the whole days it touches.
    daily = {day: n for day, n in view.predictions.daily.items() if not first <= day <= last}
    last_at = view.predictions.last_at
    if last_at is not None and first <= last_at.date().isoformat() <= last:
        last_at = None
    predictions = Predictions(total=sum(daily.values()), daily=daily, last_at=last_at)
    return view.model_copy(update={"predictions": predictions})


def _replaced(view: DeploymentView, e: ev.ModelReplaced, env: Recorded[Any]) -> DeploymentView:
    history = [
        entry.model_copy(update={"ended_at": env.time}) if entry.ended_at is None else entry
        for entry in view.model_history
    ]
    entry = ModelHistoryEntry(
        action="replaced",
        model_package=e.model_package,
        reason=e.reason,
        actor=env.actor,
        validation_status=e.validation_status,
        started_at=env.time,
        event_id=env.id,
    )
    return view.model_copy(
        update={"model_package": e.model_package, "model_deployed_at": env.time, "model_history": [*history, entry]}
    )


def _challenger_added(view: DeploymentView, e: ev.ChallengerAdded, env: Recorded[Any]) -> DeploymentView:
    others = [c for c in view.challengers if c.id != e.challenger_id]
    challenger = Challenger(id=e.challenger_id, model_package=e.model_package, added_at=env.time)
    return view.model_copy(update={"challengers": [*others, challenger]})


def _challenger_removed(view: DeploymentView, e: ev.ChallengerRemoved, _: Recorded[Any]) -> DeploymentView:
    return view.model_copy(update={"challengers": [c for c in view.challengers if c.id != e.challenger_id]})


def _health(view: DeploymentView, e: ev.HealthReport, env: Recorded[Any]) -> DeploymentView:
    current: Health = getattr(view.health, e.dimension)
    if current.reported_at is not None and (current.reported_at, current.report_id or "") > (env.time, env.id):
        return view  # an older report arriving late does not overwrite a newer one
    report = Health(
        status=e.status,
        rank=HEALTH_RANK[e.status],
        message=e.message,
        window_start=e.window.start,
        window_end=e.window.end,
        reported_at=env.time,
        report_id=env.id,
    )
    return view.model_copy(update={"health": view.health.model_copy(update={e.dimension: report})})


def _predictions(view: DeploymentView, e: ev.PredictionsRecorded, _: Recorded[Any]) -> DeploymentView:
    day = e.predicted_at.date().isoformat()
    daily = {**view.predictions.daily, day: view.predictions.daily.get(day, 0) + e.count}
    last_at = _latest(view.predictions.last_at, e.predicted_at) if e.count else view.predictions.last_at
    predictions = Predictions(total=view.predictions.total + e.count, daily=daily, last_at=last_at)
    return view.model_copy(update={"predictions": predictions})


def _run_started(view: DeploymentView, e: ev.RetrainingRunStarted, _: Recorded[Any]) -> DeploymentView:
    latest = view.latest_retraining_run
    if latest is not None and latest.started_at > e.started_at:
        return view
    run = RetrainingRun(run_id=e.run_id, policy_id=e.policy_id, trigger=e.trigger, started_at=e.started_at)
    return view.model_copy(update={"latest_retraining_run": run})


def _run_update(**fields: Callable[[Any], Any]) -> Rule:
    def rule(view: DeploymentView, e: Any, _: Recorded[Any]) -> DeploymentView:
        run = view.latest_retraining_run
        if run is None or run.run_id != e.run_id:
            return view  # only the latest run is shown in the inventory
        changes = {name: get(e) for name, get in fields.items()}
        return view.model_copy(update={"latest_retraining_run": run.model_copy(update=changes)})

    return rule


def _latest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


RULES: dict[type[Any], Rule] = {
    ev.DeploymentCreated: _created,
    ev.DeploymentActivated: _status(DeploymentStatus.ACTIVE),
    ev.DeploymentDeactivated: _status(DeploymentStatus.INACTIVE),
    ev.DeploymentErrored: _status(DeploymentStatus.ERRORED),
    ev.DeploymentDeleted: _status(DeploymentStatus.DELETED),
    ev.DeploymentErased: _erased,
    ev.DeploymentImportanceChanged: _importance,
    ev.DeploymentSettingsChanged: _settings,
    ev.DeploymentShared: _shared,
    ev.DeploymentAccessRevoked: _revoked,
    ev.DeploymentStatisticsCleared: _statistics_cleared,
    ev.ModelReplaced: _replaced,
    ev.ChallengerAdded: _challenger_added,
    ev.ChallengerRemoved: _challenger_removed,
    ev.ServiceHealthChanged: _health,
    ev.DriftDetected: _health,
    ev.AccuracyChanged: _health,
    ev.FairnessChanged: _health,
    ev.PredictionsRecorded: _predictions,
    ev.RetrainingRunStarted: _run_started,
    ev.RetrainingRunStepChanged: _run_update(step=lambda e: e.step),
    ev.RetrainingRunSucceeded: _run_update(
        status=lambda _: RunStatus.SUCCEEDED,
        finished_at=lambda e: e.finished_at,
        model_package_id=lambda e: e.model_package_id,
        challenger_id=lambda e: e.challenger_id,
    ),
    ev.RetrainingRunFailed: _run_update(
        status=lambda _: RunStatus.FAILED, finished_at=lambda e: e.finished_at, error=lambda e: e.error
    ),
    ev.RetrainingRunCanceled: _run_update(status=lambda _: RunStatus.CANCELED, finished_at=lambda e: e.finished_at),
}
