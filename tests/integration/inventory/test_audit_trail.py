"""`GET /deployments/{id}/audit`: the audit trail the inventory keeps in its own projection, fed by
events published to real Kafka and read from the running service.

What each entry says and which entries are kept are unit tests (tests/unit/inventory/test_audit_trail.py);
these check that the consumer path, the stored document and the route serve them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from shared.contract import events as ev
from shared.contract.envelope import wrap
from shared.contract.events.values import Importance, ReplacementReason
from tests.fixtures.inventory import RunningService
from tests.support import Publisher, at, created, eventually, health_report, package

pytestmark = pytest.mark.integration


async def audit_once(inventory: RunningService, deployment_id: str, length: int) -> list[dict[str, Any]]:
    """The trail as the admin reads it, once it has `length` entries."""

    async def check() -> list[dict[str, Any]]:
        response = await inventory.get(f"/deployments/{deployment_id}/audit")
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()
        assert len(entries) >= length, entries
        return entries

    return await eventually(check)


async def test_the_trail_lists_each_event_once_oldest_first_with_who_and_what(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    d = "audit-1"
    await publisher.emit(
        namespace, created(d, label="Churn scorer", importance=Importance.LOW), time=at(0), actor="alice"
    )
    importance = ev.DeploymentImportanceChanged(deployment_id=d, importance=Importance.HIGH)
    correlation = str(uuid.uuid4())
    raised = wrap(importance, source="tests", time=at(2), actor="bob", correlation_id=correlation)
    await publisher.send_envelope(namespace, raised, importance)
    for minutes, status in ((1, "passing"), (3, "passing"), (4, "failing")):
        report = health_report(d, "drift", status, message="psi 0.4" if status == "failing" else "")
        await publisher.emit(namespace, report, time=at(minutes), actor="monitor")
    replaced = ev.ModelReplaced(deployment_id=d, model_package=package("pkg-2"), reason=ReplacementReason.ACCURACY)
    await publisher.emit(namespace, replaced, time=at(5), actor="carol")
    # The same event again at a new offset (an upstream that publishes twice), then a late one:
    # on the same partition, so once the late one shows, the duplicate was handled before it.
    await publisher.send_envelope(namespace, raised, importance)
    await publisher.emit(namespace, ev.DeploymentDeactivated(deployment_id=d), time=at(1.5), actor="dave")

    entries = await audit_once(inventory, d, 6)
    assert [(e["type"], e["actor"], e["summary"]) for e in entries] == [
        ("DeploymentCreated", "alice", "created “Churn scorer” serving pkg-1, LOW, active"),
        ("DriftDetected", "monitor", "drift unknown → passing"),
        ("DeploymentDeactivated", "dave", "status active → inactive"),
        ("DeploymentImportanceChanged", "bob", "importance LOW → HIGH"),
        ("DriftDetected", "monitor", "drift passing → failing"),
        ("ModelReplaced", "carol", "model pkg-1 → pkg-2 (ACCURACY)"),
    ]
    assert [e["time"] for e in entries] == sorted(e["time"] for e in entries)
    raised_entry = entries[3]
    assert (raised_entry["event_id"], raised_entry["correlation_id"]) == (raised.id, correlation)
    assert entries[4]["reason"] == "psi 0.4"


async def test_the_trail_is_not_found_for_who_may_not_see_the_deployment(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    d = "audit-2"
    await publisher.emit(namespace, created(d, created_by="alice"), time=at(0), actor="alice")
    await audit_once(inventory, d, 1)
    assert (await inventory.get(f"/deployments/{d}/audit", "alice-token")).status_code == 200
    refused = await inventory.get(f"/deployments/{d}/audit", "carol-token")
    assert (refused.status_code, refused.json()["detail"]) == (404, f"deployment {d!r} not found")
    assert (await inventory.get("/deployments/audit-nobody/audit", "alice-token")).status_code == 404
    unauthenticated = await inventory.http.get(f"/deployments/{d}/audit")
    assert unauthenticated.status_code == 401


async def test_an_erased_deployment_keeps_no_trail(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    d = "audit-3"
    first = await publisher.emit(namespace, created(d), time=at(0))
    drift = await publisher.emit(namespace, health_report(d, "drift", "failing", message="secret words"), time=at(1))
    await audit_once(inventory, d, 2)
    await publisher.emit(namespace, ev.DeploymentDeleted(deployment_id=d), time=at(2))
    await publisher.emit(namespace, ev.DeploymentErased(deployment_id=d), time=at(3))
    # A report that arrives after the erasure adds nothing either.
    await publisher.emit(namespace, health_report(d, "drift", "passing"), time=at(3) + timedelta(seconds=1))

    async def gone() -> None:
        assert (await inventory.get(f"/deployments/{d}/audit")).status_code == 404

    await eventually(gone)
    document = await inventory.app.state.store.collection.find_one({"_id": d})
    assert document is not None
    stored = str(document)
    for trace in (first.id, drift.id, "secret words", "DriftDetected"):
        assert trace not in stored


async def test_the_route_is_documented_with_its_body_and_errors(inventory: RunningService) -> None:
    document = (await inventory.http.get("/openapi.json")).json()
    route = document["paths"]["/deployments/{deployment_id}/audit"]["get"]
    assert set(route["responses"]) == {"200", "401", "404", "422"}
    body = route["responses"]["200"]["content"]["application/json"]["schema"]
    assert body == {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntryOut"}, "title": body["title"]}
    fields = document["components"]["schemas"]["AuditEntryOut"]["properties"]
    assert set(fields) == {"time", "type", "actor", "summary", "reason", "event_id", "correlation_id"}
