"""How each event changes the inventory's view of a deployment (pure, no I/O).

Events are folded in the order given unless a test says otherwise; test_order_independence.py checks
that every order gives the same state."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pydantic
import pytest

from services.inventory.domain.evolve import evolve
from services.inventory.domain.predictions import HOUR_PRECISION_DAYS, SLOT_MINUTES, SLOT_PRECISION_HOURS
from services.inventory.domain.state import DeploymentView
from shared.contract import events as ev
from shared.contract.events.retraining import RunStatus, TriggerType
from shared.contract.events.values import (
    DeploymentStatus,
    HealthStatus,
    HealthWindow,
    Importance,
    PrincipalType,
    ReplacementReason,
    Role,
    Tag,
    ValidationStatus,
)
from shared.contract.messages import Message
from shared.domain.recorded import Recorded
from tests.support import at, created, package

D = "d1"
_ids = itertools.count()


def recorded(
    message: Message, time: datetime, actor: str | None = "alice", event_id: str | None = None
) -> Recorded[Message]:
    return Recorded(message, id=event_id or f"e{next(_ids):06d}", time=time, subject=message.subject, actor=actor)


Step = tuple[Message, datetime] | Recorded[Message]


def fold(*steps: Step, view: DeploymentView | None = None) -> DeploymentView:
    for step in steps:
        view = evolve(view, step if isinstance(step, Recorded) else recorded(*step))
    assert view is not None
    return view


def in_every_order(*steps: Step) -> DeploymentView:
    """Fold in every order (up to 6 events) and return the one state they all give."""
    events = [step if isinstance(step, Recorded) else recorded(*step) for step in steps]
    views = [fold(*order) for order in itertools.permutations(events)]
    assert all(view == views[0] for view in views)
    return views[0]


def share(principal: str, role: Role, kind: PrincipalType = PrincipalType.USER) -> ev.DeploymentShared:
    return ev.DeploymentShared(deployment_id=D, principal=principal, principal_type=kind, role=role)


def revoke(principal: str) -> ev.DeploymentAccessRevoked:
    return ev.DeploymentAccessRevoked(deployment_id=D, principal=principal)


def predictions(count: int, predicted_at: datetime) -> ev.PredictionsRecorded:
    return ev.PredictionsRecorded(deployment_id=D, count=count, predicted_at=predicted_at)


def clear(start: datetime | None = None, end: datetime | None = None) -> ev.DeploymentStatisticsCleared:
    return ev.DeploymentStatisticsCleared(deployment_id=D, start=start, end=end)


def day(minutes: float) -> str:
    return at(minutes).date().isoformat()


# ---------------------------------------------------------------- creation and status


def test_creation_sets_identity_owner_history_and_unknown_health() -> None:
    creation = recorded(created(D, owners=("ops",), importance=Importance.HIGH), at(0))
    view = fold(creation)
    assert view.created and view.status is DeploymentStatus.ACTIVE
    assert view.owners == ("alice", "ops") and view.label_sort == "deployment d1"
    assert view.importance_rank == 2
    assert [(h.action, h.actor, h.started_at, h.event_id) for h in view.model_history] == [
        ("deployed", "alice", at(0), creation.id)
    ]
    assert view.health.service.status is HealthStatus.UNKNOWN
    assert view.model_deployed_at == at(0) == view.created_at


def test_creation_time_defaults_to_the_event_time_but_the_payload_may_give_it() -> None:
    assert fold((created(D), at(3))).created_at == at(3)
    assert fold((created(D, created_at=at(1)), at(3))).created_at == at(1)


def test_the_earliest_creation_stands_whatever_the_arrival_order() -> None:
    view = in_every_order((created(D, label="Second", created_by="carol"), at(9)), (created(D, label="First"), at(3)))
    assert (view.label, view.created_by, view.created_at, view.owners) == ("First", "alice", at(3), ("alice",))


@pytest.mark.parametrize(
    ("event", "status"),
    [
        (ev.DeploymentDeactivated(deployment_id=D), DeploymentStatus.INACTIVE),
        (ev.DeploymentErrored(deployment_id=D), DeploymentStatus.ERRORED),
        (ev.DeploymentDeleted(deployment_id=D), DeploymentStatus.DELETED),
        (ev.DeploymentActivated(deployment_id=D), DeploymentStatus.ACTIVE),
    ],
)
def test_status_events(event: Message, status: DeploymentStatus) -> None:
    launching = created(D, status=DeploymentStatus.LAUNCHING)
    assert in_every_order((launching, at(0)), (event, at(1))).status is status


def test_the_latest_status_event_wins_whatever_the_arrival_order() -> None:
    view = in_every_order(
        (created(D, status=DeploymentStatus.LAUNCHING), at(0)),
        (ev.DeploymentActivated(deployment_id=D), at(1)),
        (ev.DeploymentDeactivated(deployment_id=D), at(2)),
        (ev.DeploymentErrored(deployment_id=D, message="image pull failed"), at(3)),
        (ev.DeploymentActivated(deployment_id=D), at(4)),
    )
    assert view.status is DeploymentStatus.ACTIVE


def test_a_status_event_older_than_the_creation_does_not_override_it() -> None:
    view = in_every_order((created(D), at(5)), (ev.DeploymentDeactivated(deployment_id=D), at(1)))
    assert view.status is DeploymentStatus.ACTIVE


def test_deletion_absorbs_every_later_or_earlier_status_event() -> None:
    view = in_every_order(
        (created(D), at(0)),
        (ev.DeploymentDeleted(deployment_id=D), at(1)),
        (ev.DeploymentActivated(deployment_id=D), at(2)),
        (ev.DeploymentDeactivated(deployment_id=D), at(3)),
    )
    assert view.status is DeploymentStatus.DELETED and view.label == "Deployment d1"


def test_erasure_keeps_only_the_id_and_the_fact_and_nothing_resurrects_it() -> None:
    erased = in_every_order(
        (created(D), at(0)),
        (ev.DeploymentDeleted(deployment_id=D), at(1)),
        (ev.DeploymentErased(deployment_id=D), at(2)),
        (created(D, label="Back again"), at(3)),
        (ev.DeploymentActivated(deployment_id=D), at(4)),
        (predictions(5, at(5)), at(5)),
    )
    assert erased == DeploymentView.model_validate({"deployment_id": D, "status": "erased", "facts": {"erased": True}})
    assert erased.label == "" and erased.model_history == () and erased.predictions.total == 0


# ---------------------------------------------------------------- settings and access


def test_settings_change_only_what_is_given() -> None:
    view = fold(
        (created(D, tags=(Tag(name="env", value="prod"),)), at(0)),
        (ev.DeploymentSettingsChanged(deployment_id=D, description="new"), at(1)),
    )
    assert view.label == "Deployment d1" and view.description == "new"
    assert view.tag_terms == ("env", "env:prod")
    view = fold((ev.DeploymentSettingsChanged(deployment_id=D, tags=()), at(2)), view=view)
    assert (view.tags, view.tag_terms, view.description) == ((), (), "new")


def test_each_setting_is_last_writer_wins_by_event_time() -> None:
    view = in_every_order(
        (created(D, label="Created", description="created"), at(0)),
        (ev.DeploymentSettingsChanged(deployment_id=D, label="Newer", description="older"), at(2)),
        (ev.DeploymentSettingsChanged(deployment_id=D, description="newer"), at(3)),
        (ev.DeploymentSettingsChanged(deployment_id=D, label="Older"), at(1)),
    )
    assert (view.label, view.description) == ("Newer", "newer")


def test_an_earlier_creation_arriving_late_does_not_undo_a_later_change() -> None:
    view = in_every_order(
        (created(D, label="Second"), at(5)),
        (ev.DeploymentSettingsChanged(deployment_id=D, label="Renamed"), at(3)),
        (created(D, label="First"), at(1)),
    )
    assert view.label == "Renamed"  # later than the creation that stands, though not than the other


def test_importance_is_last_writer_wins() -> None:
    view = in_every_order(
        (created(D, importance=Importance.LOW), at(0)),
        (ev.DeploymentImportanceChanged(deployment_id=D, importance=Importance.CRITICAL), at(2)),
        (ev.DeploymentImportanceChanged(deployment_id=D, importance=Importance.HIGH), at(1)),
    )
    assert (view.importance, view.importance_rank) == (Importance.CRITICAL, 3)


def test_sharing_replaces_a_role_and_revoking_removes_it() -> None:
    view = fold(
        (created(D), at(0)),
        (share("carol", Role.USER), at(1)),
        (share("carol", Role.CONSUMER), at(2)),
        (share("ml-team", Role.USER, PrincipalType.GROUP), at(3)),
        (share("bob", Role.OWNER), at(4)),
    )
    assert [(a.principal, a.role) for a in view.access] == [
        ("alice", Role.OWNER),
        ("carol", Role.CONSUMER),
        ("ml-team", Role.USER),
        ("bob", Role.OWNER),
    ]
    assert (view.owners, view.users, view.consumers) == (("alice", "bob"), ("ml-team",), ("carol",))
    view = fold((revoke("ml-team"), at(5)), (revoke("bob"), at(6)), (revoke("alice"), at(7)), view=view)
    assert [(a.principal, a.role) for a in view.access] == [("carol", Role.CONSUMER)]
    assert view.owners == ()


def test_an_older_share_arriving_after_a_revocation_does_not_restore_access() -> None:
    view = in_every_order((created(D), at(0)), (share("bob", Role.USER), at(1)), (revoke("bob"), at(2)))
    assert view.users == ()
    view = in_every_order((created(D), at(5)), (revoke("alice"), at(6)))
    assert view.owners == ()
    view = in_every_order((created(D), at(5)), (revoke("alice"), at(4)))  # older than the creation
    assert view.owners == ("alice",)


# ---------------------------------------------------------------- model


def replaced(package_id: str, reason: ReplacementReason = ReplacementReason.DATA_DRIFT) -> ev.ModelReplaced:
    return ev.ModelReplaced(deployment_id=D, model_package=package(package_id), reason=reason)


def test_replacement_closes_the_previous_entry_and_resets_model_age() -> None:
    view = fold(
        (created(D), at(0)),
        recorded(
            ev.ModelReplaced(
                deployment_id=D,
                previous_model_package_id="pkg-1",
                model_package=package("pkg-2"),
                reason=ReplacementReason.ACCURACY,
                validation_status=ValidationStatus.PASSING,
            ),
            at(60),
            actor="carol",
        ),
    )
    first, second = view.model_history
    assert first.ended_at == at(60) and second.started_at == at(60) and second.ended_at is None
    assert (second.reason, second.actor, second.validation_status) == (
        ReplacementReason.ACCURACY,
        "carol",
        ValidationStatus.PASSING,
    )
    assert view.model_package is not None and view.model_package.id == "pkg-2"
    assert view.model_deployed_at == at(60)


def test_the_champion_is_the_latest_replacement_and_history_is_ordered_by_event_time() -> None:
    view = in_every_order(
        (created(D), at(0)), (replaced("pkg-3"), at(20)), (replaced("pkg-2"), at(10)), (replaced("pkg-4"), at(15))
    )
    assert [(h.model_package.id, h.started_at, h.ended_at) for h in view.model_history] == [
        ("pkg-1", at(0), at(10)),
        ("pkg-2", at(10), at(15)),
        ("pkg-4", at(15), at(20)),
        ("pkg-3", at(20), None),
    ]
    assert view.model_package is not None and view.model_package.id == "pkg-3"
    assert view.model_deployed_at == at(20)


def test_challengers_are_added_and_removed() -> None:
    def add(challenger_id: str, package_id: str) -> ev.ChallengerAdded:
        return ev.ChallengerAdded(deployment_id=D, challenger_id=challenger_id, model_package=package(package_id))

    view = fold(
        (created(D), at(0)),
        (add("c1", "p2"), at(1)),
        (add("c2", "p3"), at(2)),
        (ev.ChallengerRemoved(deployment_id=D, challenger_id="c1"), at(3)),
        (ev.ChallengerRemoved(deployment_id=D, challenger_id="c9"), at(4)),
        (add("c2", "p4"), at(5)),  # the same challenger id, a new package
    )
    assert [(c.id, c.model_package.id, c.added_at) for c in view.challengers] == [("c2", "p4", at(5))]
    assert view.model_package is not None and view.model_package.id == "pkg-1"  # a challenger is not the champion
    # A removal is kept: the addition it removed, arriving late, does not bring the challenger back.
    assert (
        in_every_order(
            (add("c1", "p2"), at(1)), (ev.ChallengerRemoved(deployment_id=D, challenger_id="c1"), at(2))
        ).challengers
        == ()
    )


# ---------------------------------------------------------------- health


def test_the_latest_health_report_wins_whatever_the_arrival_order() -> None:
    newer = (ev.DriftDetected(deployment_id=D, status="failing", message="3 features"), at(10))
    older = (ev.DriftDetected(deployment_id=D, status="passing", window=HealthWindow(start=at(0))), at(5))
    view = in_every_order((created(D), at(0)), newer, older)
    assert view.health.drift.status is HealthStatus.FAILING
    assert view.health.drift.rank == 0 and view.health.drift.message == "3 features"
    assert view.health.drift.reported_at == at(10)


def test_accuracy_may_be_unavailable_but_not_other_dimensions() -> None:
    view = fold((created(D), at(0)), (ev.AccuracyChanged(deployment_id=D, status="unavailable"), at(1)))
    assert (view.health.accuracy.status, view.health.accuracy.rank) == (HealthStatus.UNAVAILABLE, 4)
    with pytest.raises(ValueError, match="status"):
        ev.DriftDetected(deployment_id=D, status="unavailable")


def test_a_clear_for_all_time_resets_health_reported_at_or_before_it_in_any_order() -> None:
    view = in_every_order(
        (ev.ServiceHealthChanged(deployment_id=D, status="failing"), at(1)),
        (ev.DriftDetected(deployment_id=D, status="warning"), at(2)),
        (clear(), at(2)),
        (ev.AccuracyChanged(deployment_id=D, status="passing"), at(3)),
    )
    assert [h.status for _, h in view.health] == [
        HealthStatus.UNKNOWN,
        HealthStatus.UNKNOWN,
        HealthStatus.PASSING,
        HealthStatus.UNKNOWN,
    ]


def test_a_clear_for_a_range_leaves_health_alone() -> None:
    view = in_every_order((ev.DriftDetected(deployment_id=D, status="failing"), at(1)), (clear(at(0), at(60)), at(2)))
    assert view.health.drift.status is HealthStatus.FAILING


# ---------------------------------------------------------------- predictions


def test_predictions_add_up_per_day_and_keep_the_last_time() -> None:
    view = in_every_order(
        (created(D), at(0)),
        (predictions(5, at(30)), at(30)),
        (predictions(7, at(60 * 24)), at(60 * 24)),
        (predictions(1, at(10)), at(60 * 25)),
        (predictions(0, at(60 * 48)), at(60 * 48)),  # nothing served: no new last time
    )
    assert view.predictions.total == 13
    assert view.predictions.daily == {"2026-11-01": 6, "2026-11-02": 7}
    assert view.predictions.last_at == at(60 * 24)


def test_monitoring_before_creation_is_kept_and_merged() -> None:
    view = fold((predictions(5, at(0)), at(0)), (created(D), at(1)))
    assert view.created and view.predictions.total == 5


def test_a_clear_removes_and_ignores_what_was_observed_at_or_before_it() -> None:
    view = in_every_order(
        (predictions(10, at(0)), at(0)),
        (predictions(20, at(1)), at(1)),  # observed at the clear's time: cleared
        (clear(), at(1)),
        (predictions(3, at(5)), at(5)),  # the next 5-minute slot: after the clear
        (predictions(4, at(-60)), at(6)),  # predicted before, but observed after the clear: counts
    )
    assert (view.predictions.total, view.predictions.last_at) == (7, at(5))
    assert view.predictions.daily == {day(0): 7}


def test_a_clear_of_everything_leaves_no_last_time() -> None:
    view = in_every_order((predictions(10, at(0)), at(0)), (clear(), at(5)))
    assert (view.predictions.total, view.predictions.last_at, view.predictions.daily) == (0, None, {})


def test_a_clear_for_a_range_clears_the_whole_predicted_days_it_touches() -> None:
    days = 60 * 24
    view = in_every_order(
        (predictions(1, at(-5 * days)), at(-5 * days)),
        (predictions(10, at(-3 * days)), at(-3 * days)),
        (predictions(100, at(-2 * days)), at(-2 * days)),
        (predictions(1000, at(-1 * days)), at(-1 * days)),
        (clear(start=at(-3 * days + 60), end=at(-2 * days + 60)), at(0)),
    )
    assert (view.predictions.total, view.predictions.last_at) == (1001, at(-days))
    assert view.predictions.daily == {day(-5 * days): 1, day(-days): 1000}


def test_a_range_ending_at_midnight_keeps_the_day_that_starts_then() -> None:
    midnight = at(0).replace(hour=0)
    view = in_every_order(
        (predictions(10, midnight - timedelta(hours=1)), at(0)),
        (predictions(100, midnight), at(0)),
        (clear(start=midnight - timedelta(days=1), end=midnight), at(1)),
    )
    assert view.predictions.daily == {midnight.date().isoformat(): 100}


def test_a_recent_clear_is_exact_to_five_minutes_and_covers_the_rest_of_its_hour_once_that_is_old() -> None:
    events = [
        (predictions(1, at(0)), at(0)),  # 12:00, before the clear
        (clear(), at(0.5)),  # 12:00:30
        (predictions(10, at(3)), at(3)),  # 12:03, in the clear's 5-minute slot: covered
        (predictions(100, at(SLOT_MINUTES)), at(SLOT_MINUTES)),  # 12:05: counts
    ]
    assert in_every_order(*events).predictions.total == 100
    # Two hours on, 12:00-12:59 is one bucket, which starts before the clear.
    hours_later = 60 * SLOT_PRECISION_HOURS
    assert in_every_order(*events, (predictions(1000, at(hours_later)), at(hours_later))).predictions.total == 1000


def test_the_document_keeps_a_bounded_number_of_counts_however_many_events() -> None:
    view = None
    every = range(0, 60 * 24 * 60, 13)  # every 13 minutes for 60 days: ~6,600 events
    for minute in every:
        view = evolve(view, recorded(predictions(1, at(minute)), at(minute)))
    assert view is not None and view.predictions.total == len(every)
    slots, hours, days = 60 // SLOT_MINUTES * SLOT_PRECISION_HOURS, 24 * HOUR_PRECISION_DAYS, 60
    assert len(view.predictions.counts) <= slots + hours + days
    stored = view.model_dump(mode="json")["predictions"]["counts"]
    assert len(stored) == len(view.predictions.counts) and all(isinstance(v, str) for v in stored.values())
    assert DeploymentView.model_validate(view.model_dump(mode="json")) == view


# ---------------------------------------------------------------- retraining


def started(run_id: str, minutes: float, trigger: TriggerType = TriggerType.MANUAL) -> ev.RetrainingRunStarted:
    return ev.RetrainingRunStarted(
        deployment_id=D, run_id=run_id, policy_id="p", trigger=trigger, started_at=at(minutes)
    )


def test_only_the_latest_retraining_run_is_shown_whatever_the_arrival_order() -> None:
    run = in_every_order(
        (started("r2", 5, TriggerType.DATA_DRIFT_DECLINE), at(5)),
        (started("r1", 1), at(6)),  # reported late, started earlier: not the latest
        (ev.RetrainingRunStepChanged(deployment_id=D, run_id="r2", step="training"), at(7)),
        (ev.RetrainingRunSucceeded(deployment_id=D, run_id="r2", finished_at=at(9), model_package_id="p9"), at(9)),
        (ev.RetrainingRunFailed(deployment_id=D, run_id="r1", finished_at=at(9), error="x"), at(9)),
    ).latest_retraining_run
    assert run is not None and (run.run_id, run.trigger, run.status) == (
        "r2",
        TriggerType.DATA_DRIFT_DECLINE,
        RunStatus.SUCCEEDED,
    )
    assert (run.step, run.model_package_id, run.finished_at, run.error) == ("training", "p9", at(9), None)


def test_a_run_without_outcome_is_running_and_a_new_run_replaces_it() -> None:
    view = fold(
        (started("r1", 10), at(10)),
        (ev.RetrainingRunStepChanged(deployment_id=D, run_id="r1", step="training"), at(11)),
    )
    run = view.latest_retraining_run
    assert run is not None and (run.status, run.step, run.finished_at) == (RunStatus.RUNNING, "training", None)
    view = fold(
        (started("r2", 30), at(30)),
        (ev.RetrainingRunStepChanged(deployment_id=D, run_id="r1", step="late"), at(31)),
        (ev.RetrainingRunCanceled(deployment_id=D, run_id="r2", finished_at=at(35)), at(35)),
        view=view,
    )
    run = view.latest_retraining_run
    assert run is not None and (run.run_id, run.status, run.step, run.finished_at) == (
        "r2",
        RunStatus.CANCELED,
        None,
        at(35),
    )


# ---------------------------------------------------------------- the state


def test_events_the_inventory_does_not_track_change_nothing_but_the_audit_trail() -> None:
    view = fold((created(D), at(0)))
    rejected = ev.CommandRejected(deployment_id=D, command_id="c", command_type="X", code="bad", reason="no")
    after = evolve(view, recorded(rejected, at(1)))
    assert after.model_copy(update={"trail": view.trail}) == view
    assert [entry.type for entry in after.trail.events.items] == ["DeploymentCreated", "CommandRejected"]


def test_the_state_is_frozen() -> None:
    view = fold((created(D), at(0)))
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        view.label = "changed"  # type: ignore[misc]
