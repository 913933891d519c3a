"""The audit trail the inventory keeps per deployment (services.inventory.domain.trail): what each entry
says, which entries are kept, and that the same events give the same trail in any order.

The whole view's order independence, trail included, is also checked by test_order_independence.py."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.inventory.domain.evolve import evolve
from services.inventory.domain.state import DeploymentView
from services.inventory.domain.trail import KEEP, KEEP_HEALTH, AuditItem, Trail, audit, entry_of, record
from shared.contract import events as ev
from shared.contract.events.values import Importance, ReplacementReason
from shared.contract.messages import Message
from shared.domain.recorded import Recorded
from tests.support import T0, created, health_report, package

D = "d1"


def recorded(message: Message, minutes: float, event_id: str, actor: str | None = "alice") -> Recorded[Message]:
    return Recorded(
        message,
        id=event_id,
        time=T0 + timedelta(minutes=minutes),
        subject=D,
        actor=actor,
        correlation_id=f"c-{event_id}",
    )


def fold(*events: Recorded[Message]) -> DeploymentView:
    view: DeploymentView | None = None
    for event in events:
        view = evolve(view, event)
        view = DeploymentView.model_validate_json(view.model_dump_json())  # stored and read back, as the store does
    assert view is not None
    return view


def summaries(view: DeploymentView) -> list[str]:
    return [item.summary for item in audit(view.trail)]


def drift(status: str, minutes: float, event_id: str, message: str = "") -> Recorded[Message]:
    return recorded(health_report(D, "drift", status, message=message), minutes, event_id, actor="monitor")


def test_each_entry_says_who_what_when_why_oldest_first() -> None:
    replaced = ev.ModelReplaced(
        deployment_id=D, model_package=package("pkg-2"), reason=ReplacementReason.ACCURACY, note="better AUC"
    )
    view = fold(
        recorded(ev.DeploymentImportanceChanged(deployment_id=D, importance=Importance.HIGH), 2, "e-importance"),
        recorded(created(D, importance=Importance.LOW), 0, "e-created"),
        recorded(replaced, 3, "e-replaced", actor="bob"),
        recorded(ev.DeploymentErrored(deployment_id=D, message="pods crash"), 4, "e-errored", actor=None),
    )
    items = audit(view.trail)
    assert [item.event_id for item in items] == ["e-created", "e-importance", "e-replaced", "e-errored"]
    assert items[1] == AuditItem(
        time=T0 + timedelta(minutes=2),
        type="DeploymentImportanceChanged",
        actor="alice",
        summary="importance LOW → HIGH",
        reason=None,
        event_id="e-importance",
        correlation_id="c-e-importance",
    )
    assert items[2].summary == "model pkg-1 → pkg-2 (ACCURACY)"
    assert (items[2].actor, items[2].reason) == ("bob", "better AUC")
    assert (items[3].summary, items[3].reason, items[3].actor) == ("status active → errored", "pods crash", None)
    assert items[0].summary.startswith("created")


def test_an_actor_named_in_the_event_shows_when_the_envelope_has_none() -> None:
    approved = ev.ChangeRequestApproved(deployment_id=D, change_request_id="cr-1", approved_by="carol", comment="ok")
    (item,) = audit(fold(recorded(approved, 0, "e-approved", actor=None)).trail)
    assert (item.actor, item.summary, item.reason) == ("carol", "change request cr-1 approved by carol", "ok")


def test_health_reports_show_only_where_a_status_changes() -> None:
    view = fold(
        recorded(created(D), 0, "e-created"),
        drift("passing", 1, "h1"),
        drift("passing", 2, "h2"),
        drift("failing", 3, "h3", message="psi 0.4"),
        drift("failing", 4, "h4"),
        drift("passing", 5, "h5"),
    )
    changes = [(item.event_id, item.summary, item.reason) for item in audit(view.trail)][1:]
    assert changes == [
        ("h1", "drift unknown → passing", None),
        ("h3", "drift passing → failing", "psi 0.4"),
        ("h5", "drift failing → passing", None),
    ]


def test_a_late_report_is_judged_against_its_neighbours_in_time() -> None:
    in_order = fold(drift("passing", 1, "h1"), drift("failing", 2, "h2"), drift("failing", 3, "h3"))
    late = fold(drift("passing", 1, "h1"), drift("failing", 3, "h3"), drift("failing", 2, "h2"))
    assert summaries(late) == summaries(in_order) == ["drift unknown → passing", "drift passing → failing"]
    assert [item.event_id for item in audit(late.trail)] == ["h1", "h2"]


def test_a_clear_of_all_statistics_resets_health_to_unknown() -> None:
    view = fold(
        drift("passing", 1, "h1"),
        recorded(ev.DeploymentStatisticsCleared(deployment_id=D), 2, "e-clear"),
        drift("passing", 3, "h2"),
    )
    assert summaries(view) == ["drift unknown → passing", "statistics cleared", "drift unknown → passing"]


def test_frequent_reports_keep_their_own_window_and_do_not_push_history_out() -> None:
    events = [recorded(created(D), 0, "e-created")]
    events += [drift("failing" if n % 10 == 9 else "passing", 1 + n, f"h{n:04d}") for n in range(KEEP_HEALTH * 4)]
    view = fold(*events)
    kept = view.trail.health["drift"].items
    assert [entry.event_id for entry in kept] == [f"h{n:04d}" for n in range(KEEP_HEALTH * 3, KEEP_HEALTH * 4)]
    items = audit(view.trail)
    assert items[0].event_id == "e-created"
    # The oldest kept report has no known predecessor: it sets the status without showing.
    assert [item.event_id for item in items[1:]] == ["h0079", "h0080", "h0089", "h0090", "h0099"]


def test_the_latest_entries_are_kept_whatever_the_order() -> None:
    importance = [Importance.LOW, Importance.HIGH]
    events = [recorded(created(D), 0, "e-created")] + [
        recorded(ev.DeploymentImportanceChanged(deployment_id=D, importance=importance[n % 2]), 1 + n, f"e{n:04d}")
        for n in range(KEEP + 20)
    ]
    shuffled = random.Random(7).sample(events, len(events))
    expected = [f"e{n:04d}" for n in range(20, KEEP + 20)]
    for order in (events, shuffled):
        view = fold(*order)
        assert [entry.event_id for entry in view.trail.events.items] == expected
        first = audit(view.trail)[0]
        assert first.summary == "importance LOW"  # what it replaced is no longer kept


def test_an_event_delivered_twice_is_one_entry() -> None:
    importance = recorded(ev.DeploymentImportanceChanged(deployment_id=D, importance=Importance.HIGH), 1, "e1")
    view = fold(
        recorded(created(D), 0, "e0"), importance, importance, drift("failing", 2, "h1"), drift("failing", 2, "h1")
    )
    assert [item.event_id for item in audit(view.trail)] == ["e0", "e1", "h1"]


def test_predictions_have_no_entry_and_unknown_types_show_by_name() -> None:
    predictions = ev.PredictionsRecorded(deployment_id=D, count=3, predicted_at=T0)
    assert entry_of(recorded(predictions, 0, "p1")) is None
    assert fold(recorded(predictions, 0, "p1")).trail == Trail()
    registered = ev.RetrainingPolicyDeleted(deployment_id=D, policy_id="p1")
    entry = entry_of(recorded(registered, 0, "e1"))
    assert entry is not None and entry.text == "retraining policy p1 deleted"


def test_erasure_leaves_no_trail_whatever_the_order() -> None:
    erased = recorded(ev.DeploymentErased(deployment_id=D), 5, "e-erased")
    events = [recorded(created(D), 0, "e-created"), drift("failing", 1, "h1"), erased, drift("passing", 6, "h2")]
    for order in (events, list(reversed(events))):
        view = fold(*order)
        assert view.trail == Trail()
        assert audit(view.trail) == []
        assert "h1" not in view.model_dump_json() and "e-created" not in view.model_dump_json()


def test_the_stored_trail_reads_back_the_same() -> None:
    view = fold(recorded(created(D), 0.0123, "e-created"), drift("warning", 1.5, "h1", message="a “quote” and \\"))
    again = DeploymentView.model_validate(view.model_dump(mode="python"))
    assert again == view
    assert audit(again.trail) == audit(view.trail)
    assert audit(view.trail)[1].reason == "a “quote” and \\"


# ---------------------------------------------------------------- the fold, with small windows


def _entry(kind: str, minutes: int, event_id: str, status: str) -> Any:
    message: Message = (
        health_report(D, kind, status)
        if kind != "importance"
        else ev.DeploymentImportanceChanged(deployment_id=D, importance=Importance.HIGH)
    )
    entry = entry_of(recorded(message, minutes, event_id))
    assert entry is not None
    return entry


entries = st.lists(
    st.builds(
        _entry,
        kind=st.sampled_from(["importance", "drift", "service"]),
        minutes=st.integers(0, 6),
        event_id=st.sampled_from(list("abcdefghij")),
        status=st.sampled_from(["passing", "failing"]),
    ),
    max_size=14,
)


@settings(max_examples=300, deadline=None)
@given(drawn=entries, seed=st.integers(0, 2**32))
def test_small_windows_keep_the_same_entries_in_any_order(drawn: list[Any], seed: int) -> None:
    """Windows of 3 events and 2 reports per dimension, so that eviction, duplicates and reused ids
    (two different events under one id) all occur."""

    def folded(order: list[Any]) -> Trail:
        trail = Trail()
        for entry in order:
            trail = record(trail, entry, keep=3, keep_health=2)
        return trail

    expected = folded(drawn)
    assert folded(list(reversed(drawn))) == expected
    assert folded(random.Random(seed).sample(drawn, len(drawn))) == expected
    assert audit(folded(list(reversed(drawn))), keep_health=2) == audit(expected, keep_health=2)


def test_a_full_trail_stays_small_in_the_stored_document() -> None:
    """FerretDB's time to read and write a document grows with its bytes, on every event: a full trail
    with random ids (the incompressible part) must stay a few kB, whatever the inventory keeps."""
    rng = random.Random(11)
    events = [recorded(created(D), 0, str(uuid.UUID(int=rng.getrandbits(128), version=4)))]
    for n in range(KEEP + 10):
        change = ev.DeploymentImportanceChanged(deployment_id=D, importance=[Importance.LOW, Importance.HIGH][n % 2])
        events.append(recorded(change, 1 + n, str(uuid.UUID(int=rng.getrandbits(128), version=4))))
    for n in range(KEEP_HEALTH + 5):
        for dimension in ("service", "drift", "accuracy", "fairness"):
            report = health_report(D, dimension, "passing" if n % 4 else "warning", message="psi 0.31 on 3 features")
            events.append(recorded(report, 200 + n, str(uuid.UUID(int=rng.getrandbits(128), version=4))))
    view: DeploymentView | None = None
    for event in events:
        view = evolve(view, event)
    assert view is not None
    assert len(view.trail.events.items) == KEEP
    assert [len(window.items) for window in view.trail.health.values()] == [KEEP_HEALTH] * 4
    assert len(view.trail.model_dump_json()) < 16_000


def test_a_relabel_shows_the_label_it_replaced() -> None:
    relabel = ev.DeploymentSettingsChanged(deployment_id=D, label="Churn v2", description="new words")
    view = fold(recorded(created(D, label="Churn"), 0, "e0"), recorded(relabel, 1, "e1"))
    assert summaries(view)[1] == "label “Churn” → “Churn v2”; description changed"
