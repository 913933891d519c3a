"""Pure inventory logic: how each event changes the view of a deployment. No I/O, no clock.

One deployment's events come from two topics and, from producers with another partitioner, from
several partitions: they arrive in any order. Every rule is written so that folding the same set of
events in any order gives the same state (tests/unit/inventory/test_order_independence.py):
- fields set by the creation and changed by later events (label, description, tags, importance,
  status) are last-writer-wins by (event time, event id); the creation is their base value with its
  own stamp, and if an id is created twice the earliest creation stands;
- status: activated, deactivated and errored are last-writer-wins; deleted absorbs them all; erased
  absorbs everything and keeps only the id and the fact;
- access is last-writer-wins per principal, revocations kept as tombstones;
- challengers are last-writer-wins per challenger id, removals kept as tombstones;
- the champion is the latest replacement (or the deployed model); the model history is every
  deployment and replacement ordered by stamp, each ending when the next starts;
- health keeps the latest report per dimension; a statistics clear for all time at T resets the
  reports made at or before T, whichever arrives first (a clear for a range leaves health alone);
- predictions are sums, and a clear at T removes and ignores what was observed at or before T
  (see services.inventory.domain.predictions for the granularity kept);
- the latest retraining run is the one started last; its steps and outcome may arrive before it;
- the audit trail keeps the latest entries by stamp, one per event id (services.inventory.domain.trail),
  of every event but predictions, the tracked ones and the others of the deployment stream alike.
Each rule changes the facts (state.Facts, health, predictions); `materialize` derives the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.inventory.domain.materialize import materialize
from services.inventory.domain.predictions import StatisticsClear, add_clear, latest_all_time_clear
from services.inventory.domain.state import (
    HEALTH_RANK,
    ChallengerFact,
    Creation,
    DeploymentView,
    Facts,
    Grant,
    Health,
    Replacement,
    Retraining,
    RunStart,
    RunUpdate,
)
from services.inventory.domain.trail import entry_of, record
from shared.contract import events as ev
from shared.contract.events.retraining import RunStatus
from shared.contract.events.values import DeploymentStatus, Importance, Tag
from shared.domain.fold import Stamped, merge_newest, newest, stamp_of, utc_ms
from shared.domain.recorded import Recorded

Rule = Callable[[DeploymentView, Any, Recorded[Any]], DeploymentView]


def evolve(view: DeploymentView | None, event: Recorded[Any]) -> DeploymentView:
    """Apply one event; events the inventory does not track leave the view as it was."""
    current = view or DeploymentView(deployment_id=event.subject)
    if current.facts.erased:
        return current
    entry = entry_of(event)
    if entry is not None:
        # Recorded before the rule: erasure then wipes the trail with the rest (materialize).
        current = current.model_copy(update={"trail": record(current.trail, entry)})
    rule = RULES.get(type(event.message))
    if rule is None:
        return current
    changed = rule(current, event.message, event)
    # Health and prediction rules change no facts, and nothing derived from facts needs redoing.
    return changed if changed.facts is current.facts else materialize(changed)


def _facts(view: DeploymentView, **changes: Any) -> DeploymentView:
    return view.model_copy(update={"facts": view.facts.model_copy(update=changes)})


def _settings(view: DeploymentView, **changes: Any) -> DeploymentView:
    return _facts(view, settings=view.facts.settings.model_copy(update=changes))


# ---------------------------------------------------------------- lifecycle and settings


def _created(view: DeploymentView, e: ev.DeploymentCreated, event: Recorded[Any]) -> DeploymentView:
    at, event_id = stamp_of(event)
    if e.status is DeploymentStatus.ERASED:
        return _erased(view, e, event)
    creation = Creation(
        at=at,
        event_id=event_id,
        actor=event.actor,
        label=e.label,
        description=e.description,
        importance=e.importance,
        status=e.status,
        model_package=e.model_package,
        prediction_environment=e.prediction_environment,
        created_by=e.created_by,
        owners=e.owners,
        tags=e.tags,
        created_at=e.created_at or event.time,
    )
    current = view.facts.creation
    # A second creation of the same id is a producer bug; the earliest one stands, in any order.
    standing = creation if current is None or creation.stamp < current.stamp else current
    return _facts(view, creation=standing, deleted=view.facts.deleted or e.status is DeploymentStatus.DELETED)


def _status(status: DeploymentStatus) -> Rule:
    def rule(view: DeploymentView, _: Any, event: Recorded[Any]) -> DeploymentView:
        written = Stamped[DeploymentStatus].of(status, event)
        return _settings(view, status=newest(view.facts.settings.status, written))

    return rule


def _deleted(view: DeploymentView, _: ev.DeploymentDeleted, __: Recorded[Any]) -> DeploymentView:
    return _facts(view, deleted=True)


def _erased(view: DeploymentView, _: Any, __: Recorded[Any]) -> DeploymentView:
    return view.model_copy(update={"facts": Facts(erased=True)})


def _importance(view: DeploymentView, e: ev.DeploymentImportanceChanged, event: Recorded[Any]) -> DeploymentView:
    written = Stamped[Importance].of(e.importance, event)
    return _settings(view, importance=newest(view.facts.settings.importance, written))


def _settings_changed(view: DeploymentView, e: ev.DeploymentSettingsChanged, event: Recorded[Any]) -> DeploymentView:
    current = view.facts.settings
    changes: dict[str, Any] = {}
    if e.label is not None:
        changes["label"] = newest(current.label, Stamped[str].of(e.label, event))
    if e.description is not None:
        changes["description"] = newest(current.description, Stamped[str].of(e.description, event))
    if e.tags is not None:
        changes["tags"] = newest(current.tags, Stamped[tuple[Tag, ...]].of(e.tags, event))
    return _settings(view, **changes)


def _shared(view: DeploymentView, e: ev.DeploymentShared, event: Recorded[Any]) -> DeploymentView:
    at, event_id = stamp_of(event)
    grant = Grant(principal=e.principal, principal_type=e.principal_type, role=e.role, at=at, event_id=event_id)
    return _grant(view, grant)


def _revoked(view: DeploymentView, e: ev.DeploymentAccessRevoked, event: Recorded[Any]) -> DeploymentView:
    at, event_id = stamp_of(event)
    return _grant(view, Grant(principal=e.principal, role=None, at=at, event_id=event_id))


def _grant(view: DeploymentView, grant: Grant) -> DeploymentView:
    grants = merge_newest(view.facts.grants, grant, key=lambda g: g.principal, order=lambda g: g.principal)
    return _facts(view, grants=grants)


# ---------------------------------------------------------------- model


def _replaced(view: DeploymentView, e: ev.ModelReplaced, event: Recorded[Any]) -> DeploymentView:
    at, event_id = stamp_of(event)
    replacement = Replacement(
        at=at,
        event_id=event_id,
        actor=event.actor,
        model_package=e.model_package,
        reason=e.reason,
        validation_status=e.validation_status,
    )
    others = [r for r in view.facts.replacements if r.event_id != event_id]
    return _facts(view, replacements=tuple(sorted([*others, replacement], key=lambda r: r.stamp)))


def _challenger(view: DeploymentView, challenger: ChallengerFact) -> DeploymentView:
    challengers = merge_newest(view.facts.challengers, challenger, key=lambda c: c.id, order=lambda c: c.id)
    return _facts(view, challengers=challengers)


def _challenger_added(view: DeploymentView, e: ev.ChallengerAdded, event: Recorded[Any]) -> DeploymentView:
    at, event_id = stamp_of(event)
    return _challenger(
        view, ChallengerFact(id=e.challenger_id, model_package=e.model_package, at=at, event_id=event_id)
    )


def _challenger_removed(view: DeploymentView, e: ev.ChallengerRemoved, event: Recorded[Any]) -> DeploymentView:
    at, event_id = stamp_of(event)
    return _challenger(view, ChallengerFact(id=e.challenger_id, model_package=None, at=at, event_id=event_id))


# ---------------------------------------------------------------- monitoring


def _statistics_cleared(
    view: DeploymentView, e: ev.DeploymentStatisticsCleared, event: Recorded[Any]
) -> DeploymentView:
    at, event_id = stamp_of(event)
    clear = StatisticsClear.of(at, event_id, e.start, e.end)
    clears = add_clear(view.facts.clears, clear)
    health = view.health
    if clear.all_time:
        reset = {
            dimension: Health()
            for dimension, report in health
            if report.reported_at is not None and report.reported_at <= clear.at
        }
        health = health.model_copy(update=reset)
    predictions = view.predictions.cleared(clears)
    return _facts(view, clears=clears).model_copy(update={"health": health, "predictions": predictions})


def _health(view: DeploymentView, e: ev.HealthReport, event: Recorded[Any]) -> DeploymentView:
    at, event_id = stamp_of(event)
    current: Health = getattr(view.health, e.dimension)
    if current.stamp is not None and current.stamp > (at, event_id):
        return view  # an older report arriving late does not overwrite a newer one
    cleared_at = latest_all_time_clear(view.facts.clears)
    if cleared_at is not None and at <= cleared_at:
        return view  # made before a clear of all statistics: reset already, whenever it arrives
    report = Health(
        status=e.status,
        rank=HEALTH_RANK[e.status],
        message=e.message,
        window_start=e.window.start,
        window_end=e.window.end,
        reported_at=at,
        report_id=event_id,
    )
    return view.model_copy(update={"health": view.health.model_copy(update={e.dimension: report})})


def _predictions(view: DeploymentView, e: ev.PredictionsRecorded, event: Recorded[Any]) -> DeploymentView:
    predictions = view.predictions.counted(e.count, e.predicted_at, event.time, view.facts.clears)
    return view.model_copy(update={"predictions": predictions})


# ---------------------------------------------------------------- retraining


def _run_started(view: DeploymentView, e: ev.RetrainingRunStarted, event: Recorded[Any]) -> DeploymentView:
    at, event_id = stamp_of(event)
    start = RunStart(
        run_id=e.run_id,
        policy_id=e.policy_id,
        trigger=e.trigger,
        started_at=utc_ms(e.started_at),
        at=at,
        event_id=event_id,
    )
    latest = view.facts.retraining.latest
    if latest is not None and start.key <= latest.key:
        return view  # an older run: only the latest is shown
    updates = tuple(u for u in view.facts.retraining.updates if u.at >= start.started_at)
    return _facts(view, retraining=Retraining(latest=start, updates=updates))


def _run_update(kind: str, **fields: Callable[[Any], Any]) -> Rule:
    """Steps and outcomes are last-writer-wins per run; they are kept until their run turns out not
    to be the latest (an update stamped before the latest run's start belongs to an older run)."""

    def rule(view: DeploymentView, e: Any, event: Recorded[Any]) -> DeploymentView:
        at, event_id = stamp_of(event)
        retraining = view.facts.retraining
        if retraining.latest is not None and at < retraining.latest.started_at:
            return view
        values = {name: get(e) for name, get in fields.items()}
        update = RunUpdate(run_id=e.run_id, kind=kind, at=at, event_id=event_id, **values)
        updates = merge_newest(
            retraining.updates, update, key=lambda u: (u.run_id, u.kind), order=lambda u: (u.run_id, u.kind)
        )
        return _facts(view, retraining=retraining.model_copy(update={"updates": updates}))

    return rule


RULES: dict[type[Any], Rule] = {
    ev.DeploymentCreated: _created,
    ev.DeploymentActivated: _status(DeploymentStatus.ACTIVE),
    ev.DeploymentDeactivated: _status(DeploymentStatus.INACTIVE),
    ev.DeploymentErrored: _status(DeploymentStatus.ERRORED),
    ev.DeploymentDeleted: _deleted,
    ev.DeploymentErased: _erased,
    ev.DeploymentImportanceChanged: _importance,
    ev.DeploymentSettingsChanged: _settings_changed,
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
    ev.RetrainingRunStepChanged: _run_update("step", step=lambda e: e.step),
    ev.RetrainingRunSucceeded: _run_update(
        "outcome",
        status=lambda _: RunStatus.SUCCEEDED,
        finished_at=lambda e: e.finished_at,
        model_package_id=lambda e: e.model_package_id,
        challenger_id=lambda e: e.challenger_id,
    ),
    ev.RetrainingRunFailed: _run_update(
        "outcome", status=lambda _: RunStatus.FAILED, finished_at=lambda e: e.finished_at, error=lambda e: e.error
    ),
    ev.RetrainingRunCanceled: _run_update(
        "outcome", status=lambda _: RunStatus.CANCELED, finished_at=lambda e: e.finished_at
    ),
}
