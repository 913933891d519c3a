"""Each event type's effect on the inventory, published to real Kafka and observed over HTTP and the
list filters; and exact prediction counters when the same events are delivered again.

The rules themselves (last writer wins, absorbing states, clears, which run is the latest...) are unit
tests of `evolve` in tests/unit/inventory/test_evolve.py; these check that the stored document serves
them through the API.

Where an event must have *no* effect, the test first waits until the consumer has handled it (the
service's `lifecycle_events_applied` counter), then reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared.contract import events as ev
from shared.contract.events.retraining import TriggerType
from shared.contract.events.values import (
    DeploymentStatus,
    HealthStatus,
    HealthWindow,
    Importance,
    Platform,
    PredictionEnvironment,
    PrincipalType,
    ReplacementReason,
    Role,
    Tag,
    TargetType,
    ValidationStatus,
)
from shared.contract.messages import Message
from tests.fixtures.inventory import RunningService
from tests.support import (
    Publisher,
    at,
    created,
    eventually,
    health_report,
    package,
    predictions,
)

pytestmark = pytest.mark.integration


async def until_summary(inventory: RunningService, check: Callable[[dict[str, Any]], bool]) -> None:
    """The summary counters are written right after the deployments (shared.storage.counters), so
    they may trail a deployment just seen by a few milliseconds."""

    async def summarised() -> None:
        summary = (await inventory.get("/deployments/summary")).json()
        assert check(summary), summary

    await eventually(summarised, within=10)


def now() -> datetime:
    # Whole seconds: the database keeps milliseconds, so times compare exactly after a round trip.
    return datetime.now(UTC).replace(microsecond=0)


def midnight(days_ago: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_ago)


def moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


async def until(
    inventory: RunningService,
    deployment_id: str,
    ready: Callable[[dict[str, Any]], bool],
    token: str = "admin-token",
) -> dict[str, Any]:
    """The deployment as GET returns it, once `ready` holds for it."""

    async def check() -> dict[str, Any]:
        response = await inventory.get(f"/deployments/{deployment_id}", token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert ready(body), body
        return body

    return await eventually(check)


async def status_of(inventory: RunningService, deployment_id: str, token: str = "admin-token") -> int:
    return (await inventory.get(f"/deployments/{deployment_id}", token)).status_code


async def until_status(inventory: RunningService, deployment_id: str, token: str, code: int) -> None:
    async def check() -> None:
        assert await status_of(inventory, deployment_id, token) == code

    await eventually(check)


async def listed(inventory: RunningService, token: str = "admin-token", **params: object) -> list[str]:
    response = await inventory.get("/deployments", token, limit=100, **params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


async def history(inventory: RunningService, deployment_id: str) -> list[dict[str, Any]]:
    response = await inventory.get(f"/deployments/{deployment_id}/model-history")
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def last_7_days(body: dict[str, Any]) -> dict[date, int]:
    days = {date.fromisoformat(item["date"]): item["count"] for item in body["predictions_last_7_days"]}
    today = datetime.now(UTC).date()
    assert list(days) == [today - timedelta(days=back) for back in range(6, -1, -1)]
    return days


def daily(**counts_by_days_ago: int) -> dict[date, int]:
    """The expected last-7-days counts, e.g. daily(d1=5) is 5 yesterday and 0 on the other six days."""
    today = datetime.now(UTC).date()
    return {today - timedelta(days=back): counts_by_days_ago.get(f"d{back}", 0) for back in range(6, -1, -1)}


# ---------------------------------------------------------------- deployment lifecycle


async def test_created_deployment_is_readable_with_all_its_fields(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    message = created(
        "ev-created",
        label="Churn scorer",
        description="Scores customers",
        importance=Importance.HIGH,
        owners=("bob",),
        tags=(Tag(name="team", value="growth"), Tag(name="pii")),
        model_package=package("pkg-7", TargetType.MULTICLASS, registered_model_id="rm-1", target_classes=("a", "b")),
        prediction_environment=PredictionEnvironment(id="env-9", name="prod-eu", platform=Platform.GCP),
        created_at=at(0),
    )
    envelope = await publisher.emit(namespace, message, time=at(5), actor="alice")
    body = await until(inventory, "ev-created", lambda _: True)

    unknown = {
        "status": "unknown",
        "message": "",
        "window_start": None,
        "window_end": None,
        "reported_at": None,
        "report_id": None,
    }
    model_package = {
        "id": "pkg-7",
        "name": "model pkg-7",
        "registered_model_id": "rm-1",
        "target_name": "churn",
        "target_type": "Multiclass",
        "target_classes": ["a", "b"],
        "build_environment": "Python",
    }
    age = body.pop("model_age_days")
    days = last_7_days(body)
    assert body.pop("predictions_last_7_days")
    assert body == {
        "id": "ev-created",
        "label": "Churn scorer",
        "description": "Scores customers",
        "importance": "HIGH",
        "status": "active",
        "model_package": model_package,
        "prediction_environment": {"id": "env-9", "name": "prod-eu", "platform": "gcp"},
        "owners": ["alice", "bob"],
        "access": [
            {"principal": "alice", "principal_type": "user", "role": "OWNER"},
            {"principal": "bob", "principal_type": "user", "role": "OWNER"},
        ],
        "tags": [{"name": "team", "value": "growth"}, {"name": "pii", "value": ""}],
        "created_at": "2026-11-01T12:00:00Z",
        "created_by": "alice",
        "model_deployed_at": "2026-11-01T12:00:00Z",
        "predictions": {"total": 0, "last_at": None},
        "health": {"service": unknown, "drift": unknown, "accuracy": unknown, "fairness": unknown},
        "challengers": [],
        "latest_retraining_run": None,
    }
    assert age == pytest.approx((datetime.now(UTC) - at(0)).total_seconds() / 86_400, abs=0.01)
    assert days == daily()
    assert await history(inventory, "ev-created") == [
        {
            "action": "deployed",
            "model_package": model_package,
            "reason": None,
            "actor": "alice",
            "validation_status": None,
            "started_at": "2026-11-01T12:00:00Z",
            "ended_at": None,
            "event_id": envelope.id,
        }
    ]
    assert await listed(inventory, "alice-token") == ["ev-created"]
    assert await listed(inventory, "bob-token", role="OWNER") == ["ev-created"]
    assert await listed(inventory, "carol-token") == []


def has_status(status: str) -> Callable[[dict[str, Any]], bool]:
    return lambda body: bool(body["status"] == status)


async def test_activated_deactivated_and_errored_move_the_status(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    await publisher.emit(namespace, created("ev-status", status=DeploymentStatus.LAUNCHING), time=at(0))
    await until(inventory, "ev-status", lambda b: b["status"] == "launching")
    steps: list[tuple[Message, str]] = [
        (ev.DeploymentActivated(deployment_id="ev-status"), "active"),
        (ev.DeploymentDeactivated(deployment_id="ev-status"), "inactive"),
        (ev.DeploymentErrored(deployment_id="ev-status", message="image pull failed"), "errored"),
        (ev.DeploymentActivated(deployment_id="ev-status"), "active"),
    ]
    for minute, (message, status) in enumerate(steps, start=1):
        await publisher.emit(namespace, message, time=at(minute))
        await until(inventory, "ev-status", has_status(status))
        assert await listed(inventory, status=status) == ["ev-status"]


async def test_a_deleted_deployment_leaves_the_list_and_stays_readable_by_id(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    await publisher.emit_many(
        namespace,
        [
            (created("ev-deleted"), at(0)),
            (ev.DeploymentShared(deployment_id="ev-deleted", principal="bob", role=Role.USER), at(1)),
            (predictions("ev-deleted", 12, at(2)), None),
            (created("ev-kept"), at(0)),
        ],
    )
    await until(inventory, "ev-deleted", lambda b: b["predictions"]["total"] == 12)
    assert await listed(inventory) == ["ev-deleted", "ev-kept"]

    await publisher.emit(namespace, ev.DeploymentDeleted(deployment_id="ev-deleted"), time=at(3))
    body = await until(inventory, "ev-deleted", lambda b: b["status"] == "deleted", token="alice-token")
    assert body["label"] == "Deployment ev-deleted"
    assert await status_of(inventory, "ev-deleted", "bob-token") == 200
    assert await status_of(inventory, "ev-deleted", "carol-token") == 404
    assert len(await history(inventory, "ev-deleted")) == 1
    for token in ("admin-token", "alice-token"):
        assert await listed(inventory, token) == ["ev-kept"]
    assert await listed(inventory, "bob-token") == []
    await until_summary(inventory, lambda summary: (summary["deployments"], summary["predictions"]) == (1, 0))


async def test_an_erased_deployment_is_gone_for_everyone(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    await publisher.emit(namespace, created("ev-erased"), time=at(0))
    await until(inventory, "ev-erased", lambda _: True)
    await publisher.emit(namespace, ev.DeploymentDeleted(deployment_id="ev-erased"), time=at(1))
    await publisher.emit(namespace, ev.DeploymentErased(deployment_id="ev-erased"), time=at(2))
    await until_status(inventory, "ev-erased", "admin-token", 404)
    for token in ("admin-token", "alice-token"):
        assert (await inventory.get("/deployments/ev-erased/model-history", token)).status_code == 404
        assert await status_of(inventory, "ev-erased", token) == 404
    await until_summary(inventory, lambda summary: summary["deployments"] == 0)


async def test_importance_changed(inventory: RunningService, publisher: Publisher, namespace: str) -> None:
    await publisher.emit(namespace, created("ev-importance", importance=Importance.LOW), time=at(0))
    await until(inventory, "ev-importance", lambda b: b["importance"] == "LOW")
    change = ev.DeploymentImportanceChanged(deployment_id="ev-importance", importance=Importance.CRITICAL)
    await publisher.emit(namespace, change, time=at(1))
    await until(inventory, "ev-importance", lambda b: b["importance"] == "CRITICAL")
    assert await listed(inventory, importance="CRITICAL") == ["ev-importance"]
    assert await listed(inventory, importance="LOW") == []


async def test_settings_changed_updates_only_what_it_carries(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    tags = (Tag(name="team", value="a"),)
    await publisher.emit(
        namespace, created("ev-settings", label="Old label", description="old words", tags=tags), time=at(0)
    )
    await until(inventory, "ev-settings", lambda _: True)

    relabel = ev.DeploymentSettingsChanged(deployment_id="ev-settings", label="New label")
    await publisher.emit(namespace, relabel, time=at(1))
    body = await until(inventory, "ev-settings", lambda b: b["label"] == "New label")
    assert (body["description"], body["tags"]) == ("old words", [{"name": "team", "value": "a"}])

    rest = ev.DeploymentSettingsChanged(
        deployment_id="ev-settings", description="Fresh Words", tags=(Tag(name="stage", value="prod"),)
    )
    await publisher.emit(namespace, rest, time=at(2))
    body = await until(inventory, "ev-settings", lambda b: b["description"] == "Fresh Words")
    assert (body["label"], body["tags"]) == ("New label", [{"name": "stage", "value": "prod"}])
    assert await listed(inventory, search="new LABEL") == ["ev-settings"]
    assert await listed(inventory, search="fresh words") == ["ev-settings"]
    assert await listed(inventory, search="old") == []
    assert await listed(inventory, tag="stage:prod") == ["ev-settings"]
    assert await listed(inventory, tag="team") == []

    await publisher.emit(namespace, ev.DeploymentSettingsChanged(deployment_id="ev-settings", tags=()), time=at(3))
    body = await until(inventory, "ev-settings", lambda b: b["tags"] == [])
    assert (body["label"], body["description"]) == ("New label", "Fresh Words")
    assert await listed(inventory, tag="stage") == []


async def test_sharing_and_revoking_decide_who_sees_the_deployment(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    def share(principal: str, role: Role, kind: PrincipalType = PrincipalType.USER) -> ev.DeploymentShared:
        return ev.DeploymentShared(deployment_id="ev-shared", principal=principal, principal_type=kind, role=role)

    def revoke(principal: str) -> ev.DeploymentAccessRevoked:
        return ev.DeploymentAccessRevoked(deployment_id="ev-shared", principal=principal)

    await publisher.emit(namespace, created("ev-shared"), time=at(0))
    await until(inventory, "ev-shared", lambda _: True)
    assert await status_of(inventory, "ev-shared", "carol-token") == 404

    await publisher.emit(namespace, share("carol", Role.USER), time=at(1))
    await until_status(inventory, "ev-shared", "carol-token", 200)
    assert await listed(inventory, "carol-token", role="USER") == ["ev-shared"]
    assert await listed(inventory, "carol-token", role="OWNER") == []

    # A new role replaces the old one: a consumer does not see the deployment.
    await publisher.emit(namespace, share("carol", Role.CONSUMER), time=at(2))
    await until_status(inventory, "ev-shared", "carol-token", 404)
    assert await listed(inventory, "carol-token") == []

    await publisher.emit(namespace, share("ml-team", Role.USER, PrincipalType.GROUP), time=at(3))
    await until_status(inventory, "ev-shared", "bob-token", 200)
    assert await listed(inventory, "bob-token", role="USER") == ["ev-shared"]

    await publisher.emit(namespace, share("bob", Role.OWNER), time=at(4))
    body = await until(inventory, "ev-shared", lambda b: "bob" in b["owners"])
    assert body["owners"] == ["alice", "bob"]
    assert body["access"] == [
        {"principal": "alice", "principal_type": "user", "role": "OWNER"},
        {"principal": "carol", "principal_type": "user", "role": "CONSUMER"},
        {"principal": "ml-team", "principal_type": "group", "role": "USER"},
        {"principal": "bob", "principal_type": "user", "role": "OWNER"},
    ]

    await publisher.emit(namespace, revoke("ml-team"), time=at(5))
    await publisher.emit(namespace, revoke("bob"), time=at(6))
    await until_status(inventory, "ev-shared", "bob-token", 404)
    assert await listed(inventory, "bob-token") == []

    await publisher.emit(namespace, revoke("alice"), time=at(7))
    await until_status(inventory, "ev-shared", "alice-token", 404)
    body = await until(inventory, "ev-shared", lambda _: True)
    assert (body["owners"], body["access"]) == (
        [],
        [{"principal": "carol", "principal_type": "user", "role": "CONSUMER"}],
    )
    assert await listed(inventory, "alice-token") == []
    assert await listed(inventory) == ["ev-shared"]


# ---------------------------------------------------------------- statistics


async def test_statistics_cleared_for_all_time_resets_predictions_and_health(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    # Observed 15 minutes ago, cleared 10 minutes ago: a clear removes what was observed before it
    # (to 5 minutes: see services.inventory.domain.predictions), and counts what is observed after.
    observed, cleared = now() - timedelta(minutes=15), now() - timedelta(minutes=10)
    await publisher.emit_many(
        namespace,
        [
            (created("ev-clear-all"), at(0)),
            (predictions("ev-clear-all", 10, midnight(1) + timedelta(hours=3)), observed),
            (predictions("ev-clear-all", 5, midnight(2) + timedelta(hours=3)), observed),
            (health_report("ev-clear-all", "service", "failing"), at(1)),
            (health_report("ev-clear-all", "drift", "warning"), at(1)),
        ],
    )
    await until(
        inventory,
        "ev-clear-all",
        lambda b: b["predictions"]["total"] == 15 and b["health"]["drift"]["status"] == "warning",
    )
    await publisher.emit(namespace, ev.DeploymentStatisticsCleared(deployment_id="ev-clear-all"), time=cleared)
    body = await until(inventory, "ev-clear-all", lambda b: b["predictions"]["total"] == 0)
    assert body["predictions"] == {"total": 0, "last_at": None}
    assert last_7_days(body) == daily()
    assert {dimension: h["status"] for dimension, h in body["health"].items()} == dict.fromkeys(
        ("service", "drift", "accuracy", "fairness"), "unknown"
    )

    # A late report of predictions observed before the clear is ignored; counting goes on from zero
    # with what is observed after it (now). Same key, same partition: the late one is applied first.
    later = midnight(0) + timedelta(minutes=1)
    await publisher.emit(namespace, predictions("ev-clear-all", 100, later), time=observed)
    await publisher.emit(namespace, predictions("ev-clear-all", 3, later))
    body = await until(inventory, "ev-clear-all", lambda b: b["predictions"]["total"] == 3)
    assert moment(body["predictions"]["last_at"]) == later
    assert last_7_days(body) == daily(d0=3)


async def range_fixture(inventory: RunningService, publisher: Publisher, namespace: str, deployment_id: str) -> None:
    """1 prediction five days ago, 10 three days ago, 100 two days ago, 1000 yesterday; drift failing."""
    await publisher.emit_many(
        namespace,
        [
            (created(deployment_id), at(0)),
            *[
                (predictions(deployment_id, 10**k, midnight(d) + timedelta(hours=6)), None)
                for k, d in enumerate((5, 3, 2, 1))
            ],
            (health_report(deployment_id, "drift", "failing"), at(1)),
        ],
    )
    body = await until(
        inventory,
        deployment_id,
        lambda b: b["predictions"]["total"] == 1111 and b["health"]["drift"]["status"] == "failing",
    )
    assert last_7_days(body) == daily(d5=1, d3=10, d2=100, d1=1000)


async def test_statistics_cleared_for_a_range_clears_the_whole_days_it_touches(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    await range_fixture(inventory, publisher, namespace, "ev-clear-range")
    clear = ev.DeploymentStatisticsCleared(
        deployment_id="ev-clear-range",
        start=midnight(3) + timedelta(hours=12),
        end=midnight(2) + timedelta(hours=1),
    )
    await publisher.emit(namespace, clear)  # recorded now, after the predictions were
    body = await until(inventory, "ev-clear-range", lambda b: b["predictions"]["total"] != 1111)
    assert body["predictions"]["total"] == 1001
    assert moment(body["predictions"]["last_at"]) == midnight(1) + timedelta(hours=6)
    assert last_7_days(body) == daily(d5=1, d1=1000)
    assert body["health"]["drift"]["status"] == "failing"  # a range leaves health alone


async def test_predictions_recorded_count_total_last_7_days_and_last_time(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    latest = midnight(1) + timedelta(hours=11)
    await publisher.emit(namespace, created("ev-usage"), time=at(0))
    await publisher.emit_many(
        namespace,
        [
            (predictions("ev-usage", 5, midnight(1) + timedelta(hours=10)), None),
            (predictions("ev-usage", 7, latest), None),
            (predictions("ev-usage", 11, midnight(6) + timedelta(hours=1)), None),
            (predictions("ev-usage", 13, midnight(8)), None),  # outside the last 7 days, still in the total
            (predictions("ev-usage", 0, midnight(1) + timedelta(hours=23)), None),  # nothing served: no new last time
            (predictions("ev-usage", 17, midnight(3)), None),  # older, arriving last
        ],
    )
    body = await until(inventory, "ev-usage", lambda b: b["predictions"]["total"] == 53)
    assert moment(body["predictions"]["last_at"]) == latest
    assert last_7_days(body) == daily(d6=11, d3=17, d1=12)
    assert await listed(inventory, last_prediction_after=latest.isoformat()) == ["ev-usage"]
    assert await listed(inventory, last_prediction_after=(latest + timedelta(seconds=1)).isoformat()) == []


# ---------------------------------------------------------------- model


async def test_model_replaced_closes_the_history_entry_and_resets_the_model_age(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    deployed, replaced, again = now() - timedelta(days=30), now() - timedelta(days=1), now() - timedelta(hours=1)
    await publisher.emit(namespace, created("ev-replaced"), time=deployed, actor="alice")
    body = await until(inventory, "ev-replaced", lambda _: True)
    assert body["model_age_days"] == pytest.approx(30, abs=0.01)

    first = ev.ModelReplaced(
        deployment_id="ev-replaced",
        previous_model_package_id="pkg-1",
        model_package=package("pkg-2", TargetType.BINARY),
        reason=ReplacementReason.ACCURACY,
        validation_status=ValidationStatus.PASSING,
    )
    first_envelope = await publisher.emit(namespace, first, time=replaced, actor="carol")
    body = await until(inventory, "ev-replaced", lambda b: b["model_package"]["id"] == "pkg-2")
    assert moment(body["model_deployed_at"]) == replaced
    assert moment(body["created_at"]) == deployed
    assert body["model_age_days"] == pytest.approx(1, abs=0.01)

    second = ev.ModelReplaced(
        deployment_id="ev-replaced", model_package=package("pkg-3"), reason=ReplacementReason.DATA_DRIFT
    )
    second_envelope = await publisher.emit(namespace, second, time=again, actor="bob")
    body = await until(inventory, "ev-replaced", lambda b: b["model_package"]["id"] == "pkg-3")
    assert body["model_age_days"] == pytest.approx(1 / 24, abs=0.01)

    entries = await history(inventory, "ev-replaced")
    summary = [
        (e["action"], e["model_package"]["id"], e["reason"], e["actor"], e["validation_status"], e["event_id"])
        for e in entries
    ]
    assert summary[1:] == [
        ("replaced", "pkg-2", "ACCURACY", "carol", "passing", first_envelope.id),
        ("replaced", "pkg-3", "DATA_DRIFT", "bob", None, second_envelope.id),
    ]
    assert summary[0][:5] == ("deployed", "pkg-1", None, "alice", None)
    periods = [(moment(e["started_at"]), moment(e["ended_at"])) for e in entries]
    assert periods == [(deployed, replaced), (replaced, again), (again, None)]


async def test_challengers_added_and_removed(inventory: RunningService, publisher: Publisher, namespace: str) -> None:
    def add(challenger_id: str, package_id: str) -> ev.ChallengerAdded:
        return ev.ChallengerAdded(
            deployment_id="ev-challengers", challenger_id=challenger_id, model_package=package(package_id)
        )

    await publisher.emit(namespace, created("ev-challengers"), time=at(0))
    await publisher.emit(namespace, add("c1", "pkg-c1"), time=at(1))
    await publisher.emit(namespace, add("c2", "pkg-c2"), time=at(2))
    body = await until(inventory, "ev-challengers", lambda b: len(b["challengers"]) == 2)
    assert [(c["id"], c["model_package"]["id"], c["added_at"]) for c in body["challengers"]] == [
        ("c1", "pkg-c1", "2026-11-01T12:01:00Z"),
        ("c2", "pkg-c2", "2026-11-01T12:02:00Z"),
    ]

    await publisher.emit(
        namespace, ev.ChallengerRemoved(deployment_id="ev-challengers", challenger_id="c1"), time=at(3)
    )
    await publisher.emit(
        namespace, ev.ChallengerRemoved(deployment_id="ev-challengers", challenger_id="c9"), time=at(4)
    )
    await publisher.emit(namespace, add("c2", "pkg-c3"), time=at(5))  # the same challenger id, a new package
    body = await until(inventory, "ev-challengers", lambda b: "pkg-c3" in str(b["challengers"]))
    assert [(c["id"], c["model_package"]["id"], c["added_at"]) for c in body["challengers"]] == [
        ("c2", "pkg-c3", "2026-11-01T12:05:00Z")
    ]
    assert body["model_package"]["id"] == "pkg-1"  # a challenger is not the champion


# ---------------------------------------------------------------- health


@pytest.mark.parametrize("dimension", ["service", "drift", "accuracy", "fairness"])
async def test_health_report_sets_its_dimension_and_its_filter(
    inventory: RunningService, publisher: Publisher, namespace: str, dimension: str
) -> None:
    deployment_id = f"ev-health-{dimension}"
    window = HealthWindow(start=at(-60), end=at(0))
    await publisher.emit(namespace, created(deployment_id), time=at(0))
    report = health_report(deployment_id, dimension, "warning", message="slipping", window=window)
    first = await publisher.emit(namespace, report, time=at(10))
    body = await until(inventory, deployment_id, lambda b: b["health"][dimension]["status"] == "warning")
    expected = {
        "status": "warning",
        "message": "slipping",
        "window_start": "2026-11-01T11:00:00Z",
        "window_end": "2026-11-01T12:00:00Z",
        "reported_at": "2026-11-01T12:10:00Z",
        "report_id": first.id,
    }
    assert body["health"][dimension] == expected
    others = {d: h["status"] for d, h in body["health"].items() if d != dimension}
    assert others == dict.fromkeys(others, "unknown")
    assert await listed(inventory, **{f"{dimension}_health": "warning"}) == [deployment_id]

    await publisher.emit(namespace, health_report(deployment_id, dimension, "passing"), time=at(20))
    body = await until(inventory, deployment_id, lambda b: b["health"][dimension]["status"] == "passing")
    assert body["health"][dimension]["message"] == ""
    assert await listed(inventory, **{f"{dimension}_health": "warning"}) == []
    assert await listed(inventory, **{f"{dimension}_health": "passing"}) == [deployment_id]


async def test_accuracy_can_be_unavailable(inventory: RunningService, publisher: Publisher, namespace: str) -> None:
    await publisher.emit(namespace, created("ev-accuracy"), time=at(0))
    report = ev.AccuracyChanged(
        deployment_id="ev-accuracy", status=HealthStatus.UNAVAILABLE, message="no actuals", metric="AUC"
    )
    await publisher.emit(namespace, report, time=at(1))
    body = await until(inventory, "ev-accuracy", lambda b: b["health"]["accuracy"]["status"] == "unavailable")
    assert body["health"]["accuracy"]["message"] == "no actuals"
    assert await listed(inventory, accuracy_health="unavailable") == ["ev-accuracy"]
    tile = {"passing": 0, "warning": 0, "failing": 0, "unknown": 0, "unavailable": 1}
    await until_summary(inventory, lambda summary: summary["accuracy"] == tile)


# ---------------------------------------------------------------- retraining


async def test_retraining_run_events_show_the_latest_run(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    d = "ev-retraining"

    def started(run_id: str, minutes: float, trigger: TriggerType) -> ev.RetrainingRunStarted:
        return ev.RetrainingRunStarted(
            deployment_id=d, run_id=run_id, policy_id="p1", trigger=trigger, started_at=at(minutes)
        )

    def run(body: dict[str, Any]) -> dict[str, Any]:
        latest: dict[str, Any] = body["latest_retraining_run"]
        return latest

    await publisher.emit(namespace, created(d), time=at(0))
    await publisher.emit(namespace, started("r1", 10, TriggerType.SCHEDULE), time=at(10))
    body = await until(inventory, d, lambda b: b["latest_retraining_run"] is not None)
    assert run(body) == {
        "run_id": "r1",
        "policy_id": "p1",
        "trigger": "schedule",
        "status": "running",
        "step": None,
        "started_at": "2026-11-01T12:10:00Z",
        "finished_at": None,
        "model_package_id": None,
        "challenger_id": None,
        "error": None,
    }

    await publisher.emit(
        namespace, ev.RetrainingRunStepChanged(deployment_id=d, run_id="r1", step="training"), time=at(11)
    )
    body = await until(inventory, d, lambda b: run(b)["step"] == "training")
    succeeded = ev.RetrainingRunSucceeded(
        deployment_id=d, run_id="r1", finished_at=at(20), model_package_id="pkg-r1", challenger_id="ch-r1"
    )
    await publisher.emit(namespace, succeeded, time=at(20))
    body = await until(inventory, d, lambda b: run(b)["status"] == "succeeded")
    assert run(body) == {
        "run_id": "r1",
        "policy_id": "p1",
        "trigger": "schedule",
        "status": "succeeded",
        "step": "training",
        "started_at": "2026-11-01T12:10:00Z",
        "finished_at": "2026-11-01T12:20:00Z",
        "model_package_id": "pkg-r1",
        "challenger_id": "ch-r1",
        "error": None,
    }

    # A newer run replaces it; events of the older run no longer change what is shown.
    await publisher.emit(namespace, started("r2", 30, TriggerType.DATA_DRIFT_DECLINE), time=at(30))
    await publisher.emit(namespace, ev.RetrainingRunStepChanged(deployment_id=d, run_id="r1", step="late"), time=at(31))
    failed = ev.RetrainingRunFailed(deployment_id=d, run_id="r2", finished_at=at(40), error="out of memory")
    await publisher.emit(namespace, failed, time=at(40))
    body = await until(inventory, d, lambda b: run(b)["status"] == "failed")
    latest = run(body)
    assert (latest["run_id"], latest["trigger"], latest["step"], latest["error"]) == (
        "r2",
        "data_drift_decline",
        None,
        "out of memory",
    )
    assert latest["finished_at"] == "2026-11-01T12:40:00Z"

    await publisher.emit(namespace, started("r3", 50, TriggerType.ACCURACY_DECLINE), time=at(50))
    await publisher.emit(
        namespace, ev.RetrainingRunCanceled(deployment_id=d, run_id="r3", finished_at=at(55)), time=at(55)
    )
    body = await until(inventory, d, lambda b: run(b)["status"] == "canceled")
    latest = run(body)
    assert (latest["run_id"], latest["trigger"], latest["finished_at"]) == (
        "r3",
        "accuracy_decline",
        "2026-11-01T12:55:00Z",
    )


# ---------------------------------------------------------------- exact counters under redelivery


async def counted(inventory: RunningService, deployment_id: str, marker: datetime) -> int:
    """The total once the marker (the latest prediction, published last) has been applied."""
    body = await until(inventory, deployment_id, lambda b: moment(b["predictions"]["last_at"]) == marker)
    total: int = body["predictions"]["total"]
    return total


def skipped(inventory: RunningService) -> float:
    value = inventory.app.state.runtime.metrics.registry.get_sample_value("lifecycle_events_skipped_total")
    return float(value or 0)


async def until_skipped(inventory: RunningService, expected: float) -> None:
    """The handler counts skipped events when its batch is done, summary counters included, which is
    a moment after the deployments it wrote can be read."""

    async def counted_so() -> None:
        assert skipped(inventory) == expected

    await eventually(counted_so, within=10)


async def test_the_same_prediction_event_published_many_times_counts_once(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    await publisher.emit(namespace, created("ev-dup"), time=at(0))
    for _ in range(25):
        await publisher.emit(namespace, predictions("ev-dup", 40, at(10)), event_id="evt-dup-40")
    await publisher.emit(namespace, predictions("ev-dup", 2, at(20)))
    assert await counted(inventory, "ev-dup", at(20)) == 42
    await until_skipped(inventory, 24)


async def test_a_whole_batch_published_again_counts_once(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    deployments = [f"ev-batch-{n}" for n in range(5)]
    await publisher.emit_many(namespace, [(created(d), at(0)) for d in deployments])
    batch: list[tuple[Message, datetime | None]] = [
        (predictions(d, n * 10 + k, at(k)), None) for n, d in enumerate(deployments) for k in range(1, 13)
    ]
    envelopes = await publisher.emit_many(namespace, batch)
    for _ in range(2):
        for envelope, (message, _time) in zip(envelopes, batch, strict=True):
            await publisher.send_envelope(namespace, envelope, message)
    await publisher.emit_many(namespace, [(predictions(d, 1, at(60)), None) for d in deployments])
    totals = {d: await counted(inventory, d, at(60)) for d in deployments}
    expected = {d: sum(n * 10 + k for k in range(1, 13)) + 1 for n, d in enumerate(deployments)}
    assert totals == expected
    await until_skipped(inventory, 2 * len(batch))


async def test_a_large_batch_published_again_counts_once(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    # One deployment, 100 prediction events, all published a second time: still exact.
    await publisher.emit(namespace, created("ev-big-batch"), time=at(0))
    batch: list[tuple[Message, datetime | None]] = [
        (predictions("ev-big-batch", 1, at(k / 10)), None) for k in range(1, 101)
    ]
    envelopes = await publisher.emit_many(namespace, batch)
    for envelope, (message, _time) in zip(envelopes, batch, strict=True):
        await publisher.send_envelope(namespace, envelope, message)
    await publisher.emit(namespace, predictions("ev-big-batch", 1000, at(60)))
    assert await counted(inventory, "ev-big-batch", at(60)) == 1100
