"""How each event changes the inventory's view of a deployment (pure, no I/O)."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from services.inventory.domain.evolve import evolve
from services.inventory.domain.state import DeploymentView
from shared.contract import events as ev
from shared.contract.envelope import wrap
from shared.contract.events.retraining import RunStatus, TriggerType
from shared.contract.events.values import (
    DeploymentStatus,
    HealthStatus,
    HealthWindow,
    Importance,
    ReplacementReason,
    Role,
    Tag,
)
from shared.contract.messages import Message
from shared.domain.recorded import Recorded
from tests.support import at, created, package

_offsets = itertools.count()


def inbound(message: Message, time: datetime, actor: str = "alice") -> Recorded[Message]:
    envelope = wrap(message, source="test", time=time, actor=actor)
    return Recorded(message, id=envelope.id, time=time, subject=message.subject, actor=actor)


def fold(*steps: tuple[Message, datetime]) -> DeploymentView:
    view: DeploymentView | None = None
    for message, time in steps:
        view = evolve(view, inbound(message, time))
    assert view is not None
    return view


def test_creation_sets_identity_owner_history_and_unknown_health() -> None:
    view = fold((created("d1", owners=("ops",), importance=Importance.HIGH), at(0)))
    assert view.created and view.status is DeploymentStatus.ACTIVE
    assert view.owners == ["alice", "ops"] and view.label_sort == "deployment d1"
    assert view.importance_rank == 2
    assert [h.action for h in view.model_history] == ["deployed"]
    assert view.health.service.status is HealthStatus.UNKNOWN
    assert view.model_deployed_at == at(0)


@pytest.mark.parametrize(
    ("event", "status"),
    [
        (ev.DeploymentDeactivated(deployment_id="d1"), DeploymentStatus.INACTIVE),
        (ev.DeploymentErrored(deployment_id="d1"), DeploymentStatus.ERRORED),
        (ev.DeploymentDeleted(deployment_id="d1"), DeploymentStatus.DELETED),
    ],
)
def test_status_events(event: Message, status: DeploymentStatus) -> None:
    assert fold((created("d1"), at(0)), (event, at(1))).status is status


def test_a_deleted_deployment_cannot_be_reactivated_but_can_be_erased() -> None:
    deleted = fold(
        (created("d1"), at(0)),
        (ev.DeploymentDeleted(deployment_id="d1"), at(1)),
        (ev.DeploymentActivated(deployment_id="d1"), at(2)),
    )
    assert deleted.status is DeploymentStatus.DELETED
    erased = evolve(deleted, inbound(ev.DeploymentErased(deployment_id="d1"), at(3)))
    assert erased.status is DeploymentStatus.ERASED and erased.label == "" and erased.model_history == []


def test_sharing_replaces_a_role_and_revoking_removes_it() -> None:
    view = fold(
        (created("d1"), at(0)),
        (ev.DeploymentShared(deployment_id="d1", principal="bob", role=Role.CONSUMER), at(1)),
        (ev.DeploymentShared(deployment_id="d1", principal="bob", role=Role.USER), at(2)),
        (ev.DeploymentShared(deployment_id="d1", principal="carol", role=Role.CONSUMER), at(3)),
    )
    assert view.users == ["bob"] and view.consumers == ["carol"]
    view = evolve(view, inbound(ev.DeploymentAccessRevoked(deployment_id="d1", principal="bob"), at(4)))
    assert view.users == []


def test_settings_change_only_what_is_given() -> None:
    view = fold(
        (created("d1", tags=(Tag(name="env", value="prod"),)), at(0)),
        (ev.DeploymentSettingsChanged(deployment_id="d1", description="new"), at(1)),
    )
    assert view.label == "Deployment d1" and view.description == "new"
    assert view.tag_terms == ["env", "env:prod"]


def test_replacement_closes_the_previous_entry_and_resets_model_age() -> None:
    view = fold(
        (created("d1"), at(0)),
        (
            ev.ModelReplaced(
                deployment_id="d1",
                previous_model_package_id="pkg-1",
                model_package=package("pkg-2"),
                reason=ReplacementReason.DATA_DRIFT,
            ),
            at(60),
        ),
    )
    first, second = view.model_history
    assert first.ended_at == at(60) and second.started_at == at(60) and second.ended_at is None
    assert second.reason is ReplacementReason.DATA_DRIFT and second.actor == "alice"
    assert view.model_package is not None and view.model_package.id == "pkg-2"
    assert view.model_deployed_at == at(60)


def test_the_latest_health_report_wins_whatever_the_arrival_order() -> None:
    newer = (ev.DriftDetected(deployment_id="d1", status="failing", message="3 features"), at(10))
    older = (ev.DriftDetected(deployment_id="d1", status="passing", window=HealthWindow(start=at(0))), at(5))
    for order in ([newer, older], [older, newer]):
        view = fold((created("d1"), at(0)), *order)
        assert view.health.drift.status is HealthStatus.FAILING
        assert view.health.drift.rank == 0 and view.health.drift.message == "3 features"


def test_accuracy_may_be_unavailable_but_not_other_dimensions() -> None:
    view = fold((created("d1"), at(0)), (ev.AccuracyChanged(deployment_id="d1", status="unavailable"), at(1)))
    assert view.health.accuracy.status is HealthStatus.UNAVAILABLE
    with pytest.raises(ValueError, match="status"):
        ev.DriftDetected(deployment_id="d1", status="unavailable")


def test_predictions_add_up_per_day_and_keep_the_last_time() -> None:
    view = fold(
        (created("d1"), at(0)),
        (ev.PredictionsRecorded(deployment_id="d1", count=5, predicted_at=at(30)), at(30)),
        (ev.PredictionsRecorded(deployment_id="d1", count=7, predicted_at=at(60 * 24)), at(60 * 24)),
        (ev.PredictionsRecorded(deployment_id="d1", count=1, predicted_at=at(10)), at(60 * 25)),
    )
    assert view.predictions.total == 13
    assert view.predictions.daily == {"2026-11-01": 6, "2026-11-02": 7}
    assert view.predictions.last_at == at(60 * 24)


def test_clearing_statistics_for_a_range_drops_those_days_only() -> None:
    base = fold(
        (created("d1"), at(0)),
        (ev.PredictionsRecorded(deployment_id="d1", count=5, predicted_at=at(0)), at(0)),
        (ev.PredictionsRecorded(deployment_id="d1", count=7, predicted_at=at(60 * 48)), at(60 * 48)),
        (ev.ServiceHealthChanged(deployment_id="d1", status="failing"), at(1)),
    )
    ranged = evolve(base, inbound(ev.DeploymentStatisticsCleared(deployment_id="d1", start=at(0), end=at(1)), at(99)))
    assert ranged.predictions.daily == {"2026-11-03": 7} and ranged.predictions.total == 7
    everything = evolve(base, inbound(ev.DeploymentStatisticsCleared(deployment_id="d1"), at(99)))
    assert everything.predictions.total == 0 and everything.health.service.status is HealthStatus.UNKNOWN


def test_monitoring_before_creation_is_kept_and_merged() -> None:
    view = fold(
        (ev.PredictionsRecorded(deployment_id="d1", count=5, predicted_at=at(0)), at(0)),
        (created("d1"), at(1)),
    )
    assert view.created and view.predictions.total == 5


def test_only_the_latest_retraining_run_is_tracked() -> None:
    start = ev.RetrainingRunStarted(
        deployment_id="d1", run_id="r2", policy_id="p", trigger=TriggerType.DATA_DRIFT_DECLINE, started_at=at(5)
    )
    old = ev.RetrainingRunStarted(
        deployment_id="d1", run_id="r1", policy_id="p", trigger=TriggerType.MANUAL, started_at=at(1)
    )
    view = fold(
        (created("d1"), at(0)),
        (start, at(5)),
        (old, at(6)),
        (ev.RetrainingRunStepChanged(deployment_id="d1", run_id="r2", step="training"), at(7)),
        (ev.RetrainingRunSucceeded(deployment_id="d1", run_id="r2", finished_at=at(9), model_package_id="p9"), at(9)),
        (ev.RetrainingRunFailed(deployment_id="d1", run_id="r1", finished_at=at(9), error="x"), at(9)),
    )
    run = view.latest_retraining_run
    assert run is not None and run.run_id == "r2" and run.status is RunStatus.SUCCEEDED
    assert run.step == "training" and run.model_package_id == "p9"


def test_challengers_are_added_and_removed() -> None:
    view = fold(
        (created("d1"), at(0)),
        (ev.ChallengerAdded(deployment_id="d1", challenger_id="c1", model_package=package("p2")), at(1)),
        (ev.ChallengerAdded(deployment_id="d1", challenger_id="c2", model_package=package("p3")), at(2)),
        (ev.ChallengerRemoved(deployment_id="d1", challenger_id="c1"), at(3)),
    )
    assert [c.id for c in view.challengers] == ["c2"]


def test_events_the_inventory_does_not_track_change_nothing() -> None:
    view = fold((created("d1"), at(0)))
    rejected = ev.CommandRejected(deployment_id="d1", command_id="c", command_type="X", code="bad", reason="no")
    assert evolve(view, inbound(rejected, at(1))) == view
