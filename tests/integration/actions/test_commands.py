"""RegisterDeployment over HTTP and over Kafka, on the real broker and database: 202 and a status to
follow, `DeploymentCreated` on the deployment topic exactly once, a rejection with its reason."""

from __future__ import annotations

from typing import Any

import pytest

from shared.contract.commands.actions import RegisterDeployment
from shared.contract.envelope import Envelope, derived_id
from shared.contract.messages import Actor
from tests.fixtures.actions import RunningActions, read_topic
from tests.fixtures.inventory import RunningService
from tests.support import Publisher, created, eventually, package, until_applied

pytestmark = pytest.mark.integration


def body(deployment_id: str | None = "d-1", **over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "label": "Churn",
        "description": "scores customers",
        "importance": "HIGH",
        "model_package": {"id": "pkg-1", "name": "churn v1", "target_name": "churn", "target_type": "Binary"},
        "prediction_environment": {"id": "env-1", "name": "prod", "platform": "aws"},
        "owners": ["bob"],
        "tags": [{"name": "team", "value": "growth"}],
    }
    if deployment_id is not None:
        values["id"] = deployment_id
    return values | over


async def settled(actions: RunningActions, command_id: str, token: str = "alice-token") -> dict[str, Any]:
    """The command's status once it is no longer `accepted`."""

    async def check() -> dict[str, Any]:
        response = await actions.get(f"/commands/{command_id}", token)
        assert response.status_code == 200, response.text
        status: dict[str, Any] = response.json()
        assert status["status"] != "accepted", status
        return status

    return await eventually(check)


async def deployment_events(actions: RunningActions, *types: str) -> list[Envelope]:
    events = await read_topic(actions.settings.kafka.bootstrap_servers, actions.settings.topics.deployment_events)
    return [e for e in events if e.source == "actions" and (not types or e.type in types)]


async def test_registered_over_http_it_is_created_once_and_shows_in_the_inventory(
    actions: RunningActions, inventory: RunningService
) -> None:
    response = await actions.post("/deployments", body("d-http"), headers={"X-Correlation-Id": "corr-1"})
    assert response.status_code == 202, response.text
    accepted = response.json()
    command_id = accepted["command_id"]
    assert accepted["status_url"] == f"/commands/{command_id}" == response.headers["Location"]
    assert accepted["deployment_id"] == "d-http"

    status = await settled(actions, command_id)
    assert (status["status"], status["event_ids"]) == ("completed", [derived_id(command_id, "0")])

    async def listed() -> dict[str, Any]:
        found = await inventory.get("/deployments/d-http", "alice-token")
        assert found.status_code == 200, found.text
        return dict(found.json())

    view = await eventually(listed)
    assert (view["label"], view["created_by"], view["importance"], view["status"]) == (
        "Churn",
        "alice",
        "HIGH",
        "active",
    )
    (event,) = await deployment_events(actions)
    assert (event.id, event.type, event.actor, event.causationid, event.correlationid) == (
        derived_id(command_id, "0"),
        "DeploymentCreated",
        "alice",
        command_id,
        "corr-1",
    )


async def test_the_same_idempotency_key_twice_runs_once_and_names_the_same_deployment(actions: RunningActions) -> None:
    key = {"Idempotency-Key": "register-once-1"}
    first = await actions.post("/deployments", body(deployment_id=None), headers=key)
    assert first.status_code == 202, first.text
    await settled(actions, "register-once-1")
    second = await actions.post("/deployments", body(deployment_id=None), headers=key)
    assert second.status_code == 202, second.text
    assert second.json() == {**first.json(), "status": "completed"}
    deployment_id = first.json()["deployment_id"]
    assert deployment_id == derived_id("register-once-1", "deployment")

    other_body = await actions.post("/deployments", body(deployment_id=None, label="Other"), headers=key)
    assert other_body.status_code == 409, other_body.text
    assert "already used" in other_body.json()["detail"]
    assert [e.subject for e in await deployment_events(actions)] == [deployment_id]


def register_command(command_id: str, deployment_id: str, user: str, **over: Any) -> RegisterDeployment:
    values: dict[str, Any] = {
        "label": "From another service",
        "model_package": package(),
        "prediction_environment": {"id": "env-1", "name": "prod", "platform": "aws"},
    }
    return RegisterDeployment(
        command_id=command_id, deployment_id=deployment_id, actor=Actor(user=user), **(values | over)
    )


async def test_the_same_command_sent_twice_on_kafka_ends_in_one_set_of_events(
    actions: RunningActions, publisher: Publisher, namespace: str
) -> None:
    command = register_command("kafka-cmd-1", "d-kafka", "alice")
    for _ in range(2):
        await publisher.emit(namespace, command, event_id=command.command_id, actor="alice")
    status = await settled(actions, "kafka-cmd-1")
    assert status["status"] == "completed"
    await publisher.emit(namespace, command, event_id=command.command_id, actor="alice")  # and once more, later

    await until_applied(actions.app, 3, "RegisterDeployment")
    events = await deployment_events(actions)
    assert [(e.type, e.id) for e in events] == [("DeploymentCreated", derived_id("kafka-cmd-1", "0"))]


async def test_two_registrations_of_one_id_in_a_row_the_second_sees_the_first(
    actions: RunningActions, publisher: Publisher, namespace: str
) -> None:
    # Straight to the command topic, back to back: no HTTP pre-check, the handler's order decides.
    first = register_command("twice-1", "d-twice", "alice")
    second = register_command("twice-2", "d-twice", "bob", label="Mine")
    for command in (first, second):
        await publisher.emit(namespace, command, event_id=command.command_id, actor=command.actor.user)
    assert (await settled(actions, "twice-1"))["status"] == "completed"
    rejected = await settled(actions, "twice-2", token="bob-token")
    assert (rejected["status"], rejected["code"]) == ("rejected", "already-exists")
    assert "created by alice" in rejected["reason"]
    events = await deployment_events(actions)
    assert [e.type for e in events] == ["DeploymentCreated", "CommandRejected"]
    assert events[1].id == rejected["event_ids"][0] and events[1].data["reason"] == rejected["reason"]


async def test_an_id_already_known_is_refused_at_once(
    actions: RunningActions, publisher: Publisher, namespace: str
) -> None:
    await publisher.emit(namespace, created("d-upstream"))  # by an upstream serving platform

    async def folded() -> None:
        assert (await actions.app.state.store.deployments.load("d-upstream")).state.exists

    await eventually(folded)
    response = await actions.post("/deployments", body("d-upstream"))
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "already-exists"
    assert "created by alice" in response.json()["detail"]
    assert await deployment_events(actions) == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"importance": "URGENT"}, "importance"),
        ({"label": ""}, "label"),
        ({"label": "x" * 513}, "label"),
        ({"surprise": 1}, "surprise"),
        ({"id": "a/b"}, "id"),
        ({"model_package": {"id": "p"}}, "model_package"),
        ({"owners": "alice"}, "owners"),
    ],
)
async def test_a_bad_body_is_refused_with_where_and_why(
    actions: RunningActions, change: dict[str, Any], where: str
) -> None:
    response = await actions.post("/deployments", body() | change)
    assert response.status_code == 422, response.text
    assert any(where in map(str, problem["loc"]) for problem in response.json()["detail"]), response.text


async def test_who_may_send_and_read_commands(actions: RunningActions) -> None:
    assert (await actions.post("/deployments", body(), token=None)).status_code == 401
    assert (await actions.post("/deployments", body(), token="nobody")).status_code == 401
    bad_key = await actions.post("/deployments", body(), headers={"Idempotency-Key": "no spaces"})
    assert bad_key.status_code == 400 and "Idempotency-Key" in bad_key.json()["detail"]
    command_id = (await actions.post("/deployments", body("d-mine"))).json()["command_id"]
    assert (await actions.get(f"/commands/{command_id}", "bob-token")).status_code == 404
    assert (await actions.get(f"/commands/{command_id}", "admin-token")).status_code == 200
    assert (await actions.get("/commands/never-sent")).status_code == 404
    assert (await actions.http.get(f"/commands/{command_id}")).status_code == 401
