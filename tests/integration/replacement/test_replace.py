"""Replacing a deployment's model on the real broker and database, over HTTP and over the command topic:
the dry run answers at once with every named check; a compatible package replaces the champion
(`ModelReplaced` with the checks), one with only warnings too; the model history keeps both, with the
start and end of service, and the inventory shows the new champion and its age."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.contract.commands.replacement import ReplaceModel
from shared.contract.envelope import derived_id
from shared.contract.events.values import Feature
from tests.fixtures.inventory import RunningService, inventory_shows
from tests.fixtures.replacement import RunningReplacement, actor_of, registration

pytestmark = pytest.mark.integration

CHECKS = [
    "target_name", "target_type", "target_classes", "feature_data_types", "features", "series_type",
    "prediction_intervals", "not_current_model", "package_ready", "permission", "deployment_state",
]  # fmt: skip


async def replaced_via(via: str, replacement: RunningReplacement, deployment_id: str, body: dict[str, Any]) -> str:
    """Replace over HTTP or over the command topic; the command id once it has completed."""
    path = f"/deployments/{deployment_id}/model:replace"
    if via == "http":
        return await replacement.completed(path, body)
    command_id = f"kafka-{uuid.uuid4().hex[:8]}"
    await replacement.send(
        ReplaceModel(command_id=command_id, deployment_id=deployment_id, actor=actor_of("alice-token"), **body)
    )
    status = await replacement.settled(command_id)
    assert status["status"] == "completed", status
    return command_id


async def test_the_dry_run_answers_every_named_check_at_once_and_records_it(replacement: RunningReplacement) -> None:
    await replacement.register(registration("pkg-2"))
    await replacement.deployment("d-1")
    response = await replacement.post("/deployments/d-1/model:validate", {"model_package_id": "pkg-2"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["status"], answer["current_model_package_id"]) == ("passing", "pkg-1")
    assert list(answer["checks"]) == CHECKS
    assert all(check["status"] == "passing" and check["message"] for check in answer["checks"].values())

    status = await replacement.settled(answer["command_id"])
    assert status["status"] == "completed"
    (recorded,) = await replacement.caused_by(answer["command_id"])
    assert recorded.type == "ModelReplacementValidated"
    assert (recorded.data["status"], recorded.data["actor"]) == ("passing", "alice")
    assert (await replacement.history("d-1"))["champion"]["id"] == "pkg-1", "a dry run changes nothing"


@pytest.mark.parametrize("via", ["http", "kafka"])
async def test_a_compatible_package_replaces_the_champion_and_the_inventory_shows_it(
    replacement: RunningReplacement, inventory: RunningService, via: str
) -> None:
    await replacement.register(registration("pkg-2"))
    await replacement.deployment("d-1")
    await inventory_shows(inventory, "d-1", lambda v: v["model_package"]["id"] == "pkg-1")
    deployed = (await inventory.get("/deployments/d-1")).json()["model_deployed_at"]

    body = {"model_package_id": "pkg-2", "reason": "DATA_DRIFT", "note": "drift since Monday"}
    command_id = await replaced_via(via, replacement, "d-1", body)
    (event,) = await replacement.caused_by(command_id)
    assert (event.type, event.id, event.actor) == ("ModelReplaced", derived_id(command_id, "0"), "alice")
    assert event.data["previous_model_package_id"] == "pkg-1"
    assert (event.data["validation_status"], event.data["reason"]) == ("passing", "DATA_DRIFT")
    assert list(event.data["checks"]) == CHECKS

    history = await replacement.history("d-1")
    assert history["champion"]["id"] == "pkg-2"
    first, second = history["history"]
    assert (first["action"], first["model_package"]["id"], second["action"]) == ("deployed", "pkg-1", "replaced")
    assert first["ended_at"] == second["started_at"] and second["ended_at"] is None
    assert (second["reason"], second["note"], second["actor"]) == ("DATA_DRIFT", "drift since Monday", "alice")

    view = await inventory_shows(inventory, "d-1", lambda v: v["model_package"]["id"] == "pkg-2")
    assert view["model_deployed_at"] > deployed, (deployed, view)
    assert 0 <= view["model_age_days"] < 0.01, "the new champion's age starts at its replacement"


async def test_a_package_with_only_warnings_replaces_the_champion_and_says_why(
    replacement: RunningReplacement,
) -> None:
    warned = registration(
        "pkg-w",
        features=(*registration("pkg-1").features, Feature(name="region", type="Categorical")),
        supports_prediction_intervals=False,
    )
    await replacement.register(warned)
    await replacement.deployment("d-1")
    dry = (await replacement.post("/deployments/d-1/model:validate", {"model_package_id": "pkg-w"})).json()
    assert dry["status"] == "warning"
    warnings = {name: c["message"] for name, c in dry["checks"].items() if c["status"] == "warning"}
    assert set(warnings) == {"features", "prediction_intervals"}
    assert "region" in warnings["features"]

    command_id = await replacement.completed(
        "/deployments/d-1/model:replace", {"model_package_id": "pkg-w", "reason": "ACCURACY"}
    )
    (event,) = await replacement.caused_by(command_id)
    assert (event.type, event.data["validation_status"]) == ("ModelReplaced", "warning")
    assert event.data["checks"]["features"]["status"] == "warning"
    last = (await replacement.history("d-1"))["history"][-1]
    assert (last["model_package"]["id"], last["validation_status"]) == ("pkg-w", "warning")
