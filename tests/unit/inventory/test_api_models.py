"""The read API's bodies are mapped field by field from the state: nothing stored only for the
database (ranks, sort keys, role arrays, stamps, revisions) reaches a response."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.inventory.domain.evolve import evolve
from services.inventory.domain.state import HEALTH_DIMENSIONS, DeploymentView, HealthByDimension
from services.inventory.entrypoints.api_models import DeploymentOut, HealthByDimensionOut, Summary
from shared.contract import events as ev
from shared.contract.events.values import ModelPackageRef, PredictionEnvironment, Role, TargetType
from shared.domain.recorded import Recorded

NOW = datetime(2026, 11, 2, tzinfo=UTC)
STORAGE_ONLY = {
    "rank",
    "label_sort",
    "importance_rank",
    "tag_terms",
    "users",
    "consumers",
    "created",
    "_rev",
    "_applied",
    "facts",
    "counts",
    "newest_observation",
}


def recorded(message: Any, n: int) -> Recorded[Any]:
    return Recorded(message=message, id=f"e{n}", time=datetime(2026, 11, 1, n, tzinfo=UTC), subject="d1")


def keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def a_deployment() -> DeploymentView:
    events = [
        ev.DeploymentCreated(
            deployment_id="d1",
            label="Churn",
            created_by="alice",
            model_package=ModelPackageRef(id="p1", name="gbm", target_name="churn", target_type=TargetType.BINARY),
            prediction_environment=PredictionEnvironment(id="env", name="prod", platform="aws"),
        ),
        ev.DeploymentShared(deployment_id="d1", principal="bob", role=Role.USER),
        ev.DeploymentShared(deployment_id="d1", principal="carol", role=Role.CONSUMER),
        ev.DriftDetected(deployment_id="d1", status="warning", message="psi"),
    ]
    view: DeploymentView | None = None
    for n, message in enumerate(events):
        view = evolve(view, recorded(message, n))
    assert view is not None
    return view


def test_a_deployment_body_has_no_storage_only_field() -> None:
    body = DeploymentOut.of(a_deployment(), NOW).model_dump(mode="json")
    assert keys(body) & STORAGE_ONLY == set()
    assert body["owners"] == ["alice"]
    assert [(a["principal"], a["role"]) for a in body["access"]] == [
        ("alice", "OWNER"),
        ("bob", "USER"),
        ("carol", "CONSUMER"),
    ]
    assert body["health"]["drift"] == {
        "status": "warning",
        "message": "psi",
        "window_start": None,
        "window_end": None,
        "reported_at": "2026-11-01T03:00:00Z",
        "report_id": "e3",
    }


def test_every_health_dimension_is_in_the_state_the_api_and_the_summary() -> None:
    assert tuple(HealthByDimension.model_fields) == HEALTH_DIMENSIONS
    assert tuple(HealthByDimensionOut.model_fields) == HEALTH_DIMENSIONS
    assert set(HEALTH_DIMENSIONS) <= set(Summary.model_fields)
