"""Every action of the actions menu, over HTTP and over the command topic, on the real broker and
database, with the inventory running beside it: each ends in its event, and the inventory reflects
it, down to erasure, after which the inventory keeps only a tombstone."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.contract.commands import actions as cmd
from shared.contract.envelope import derived_id
from shared.contract.messages import Actor
from tests.fixtures.actions import RunningActions, registered, sent
from tests.fixtures.inventory import TOKENS, RunningService, inventory_shows
from tests.support import Publisher, eventually, predictions

pytestmark = pytest.mark.integration


def access(view: dict[str, Any]) -> dict[str, str]:
    return {grant["principal"]: grant["role"] for grant in view["access"]}


@dataclasses.dataclass(frozen=True)
class Step:
    action: str
    command: type[cmd.ActionsCommand]
    body: dict[str, Any] | None
    token: str
    event: str
    shows: Callable[[dict[str, Any]], bool]


STEPS = (
    Step("deactivate", cmd.DeactivateDeployment, {"reason": "maintenance"}, "alice-token", "DeploymentDeactivated",
         lambda v: v["status"] == "inactive"),
    Step("activate", cmd.ActivateDeployment, None, "bob-token", "DeploymentActivated",
         lambda v: v["status"] == "active"),
    Step("importance", cmd.ChangeImportance, {"importance": "LOW"}, "alice-token", "DeploymentImportanceChanged",
         lambda v: v["importance"] == "LOW"),
    Step("settings", cmd.ChangeDeploymentSettings, {"label": "Churn v2", "tags": [{"name": "env", "value": "prod"}]},
         "alice-token", "DeploymentSettingsChanged",
         lambda v: (v["label"], v["description"], v["tags"]) == ("Churn v2", "scores customers",
                                                                 [{"name": "env", "value": "prod"}])),
    Step("share", cmd.ShareDeployment, {"principal": "carol", "role": "USER"}, "bob-token", "DeploymentShared",
         lambda v: access(v).get("carol") == "USER"),
    Step("share", cmd.ShareDeployment, {"principal": "ml-team", "principal_type": "group", "role": "CONSUMER"},
         "alice-token", "DeploymentShared", lambda v: access(v).get("ml-team") == "CONSUMER"),
    Step("revoke", cmd.RevokeAccess, {"principal": "carol"}, "alice-token", "DeploymentAccessRevoked",
         lambda v: "carol" not in access(v)),
    Step("clear-statistics", cmd.ClearStatistics, {}, "alice-token", "DeploymentStatisticsCleared",
         lambda v: v["predictions"]["total"] == 0),
    Step("delete", cmd.DeleteDeployment, None, "bob-token", "DeploymentDeleted",
         lambda v: v["status"] == "deleted"),
    Step("erase", cmd.EraseDeployment, {"reason": "GDPR request"}, "admin-token", "DeploymentErased",
         lambda v: False),  # erased: the inventory no longer shows it at all (checked below)
)  # fmt: skip


def actor_of(token: str) -> Actor:
    user = TOKENS[token]
    return Actor(user=user.user, groups=user.groups, admin=user.admin)


async def run_over_http(actions: RunningActions, deployment_id: str, step: Step) -> str:
    status = await actions.completed(f"/deployments/{deployment_id}/{step.action}", step.body, step.token)
    return str(status["command_id"])


def over_kafka(publisher: Publisher, namespace: str) -> Callable[[RunningActions, str, Step], Any]:
    async def run(actions: RunningActions, deployment_id: str, step: Step) -> str:
        command_id = f"kafka-{uuid.uuid4().hex[:8]}"
        command = step.command(
            command_id=command_id, deployment_id=deployment_id, actor=actor_of(step.token), **(step.body or {})
        )
        await sent(publisher, namespace, command)
        status = await actions.settled(command_id)
        assert status["status"] == "completed", status
        return command_id

    return run


ERASED_DETAILS = ("alice", "bob", "carol", "ml-team", "Churn", "scores customers", "pkg-1", "growth", "prod")
BOOKKEEPING = ("_counting", "_counted", "_applied")
"""The inventory document's fields about counting and applying (not the deployment's view)."""


async def only_a_tombstone(inventory: RunningService, deployment_id: str, *, bookkeeping: bool) -> None:
    """The inventory's document of an erased deployment holds none of its details nor its users' ids
    (in its view; also in its bookkeeping fields when `bookkeeping`)."""
    document = await inventory.app.state.store.collection.find_one({"_id": deployment_id})
    assert document is not None, "the tombstone stays, so a late event cannot bring the deployment back"
    kept = str({k: v for k, v in document.items() if bookkeeping or k not in BOOKKEEPING})
    for detail in ERASED_DETAILS:
        assert detail not in kept, f"{detail!r} survived the erasure: {kept}"


@pytest.mark.parametrize("via", ["http", "kafka"])
async def test_each_action_ends_in_its_event_and_the_inventory_reflects_it(
    actions: RunningActions, inventory: RunningService, publisher: Publisher, namespace: str, via: str
) -> None:
    run = run_over_http if via == "http" else over_kafka(publisher, namespace)
    deployment_id = f"d-{via}"
    await registered(actions, deployment_id)
    await inventory_shows(inventory, deployment_id, lambda v: access(v) == {"alice": "OWNER", "bob": "OWNER"})
    await publisher.emit(namespace, predictions(deployment_id, 7, datetime.now(UTC) - timedelta(minutes=5)))
    await inventory_shows(inventory, deployment_id, lambda v: v["predictions"]["total"] == 7)

    for step in STEPS:
        command_id = await run(actions, deployment_id, step)
        (event,) = [e for e in await actions.events() if e.causationid == command_id]
        assert (event.type, event.id, event.subject) == (step.event, derived_id(command_id, "0"), deployment_id)
        assert event.actor == actor_of(step.token).user
        if step.action != "erase":
            await inventory_shows(inventory, deployment_id, lambda v, step=step: step.shows(v))  # type: ignore[misc]

    async def erased() -> None:
        assert (await inventory.get(f"/deployments/{deployment_id}", "admin-token")).status_code == 404

    await eventually(erased)

    await eventually(lambda: only_a_tombstone(inventory, deployment_id, bookkeeping=False), within=15)
    types = [e.type for e in await actions.events() if e.subject == deployment_id]
    assert types == ["DeploymentCreated", *(step.event for step in STEPS)]


async def test_erasure_leaves_no_user_id_anywhere_in_the_inventory_document(
    actions: RunningActions, inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    await registered(actions, "d-gone")
    await publisher.emit(namespace, predictions("d-gone", 3, datetime.now(UTC) - timedelta(minutes=5)))
    await inventory_shows(inventory, "d-gone", lambda v: v["predictions"]["total"] == 3)
    await actions.completed("/deployments/d-gone/delete")
    await actions.completed("/deployments/d-gone/erase", token="admin-token")
    await eventually(lambda: only_a_tombstone(inventory, "d-gone", bookkeeping=True), within=10)
