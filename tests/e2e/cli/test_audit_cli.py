"""`lifecycle history` and `lifecycle at` against the real broker: the audit trail with the commands behind
the events and their outcomes, and a past state equal to what the live projection showed at that time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared.contract import commands as cmd
from shared.contract import events as ev
from shared.contract.events.values import Importance
from shared.contract.messages import Actor
from tests.e2e.cli.runner import Result, lifecycle
from tests.fixtures.actions import RunningActions, registered, sent
from tests.fixtures.inventory import RunningService, inventory_shows
from tests.infra import Infra
from tests.support import Publisher, at, created, health_report, package, predictions

pytestmark = pytest.mark.integration

TIME_RELATIVE = ("model_age_days", "predictions_last_7_days")
"""Ignored in the comparison: the live API counts them back from the moment it answered (the test's wall
clock), `at` from TIME, as the API would have answered at TIME. Everything else must be equal."""


async def test_at_gives_the_state_the_live_projection_had_at_that_time(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    d = "at-1"
    steps: list[tuple[Any, Callable[[dict[str, Any]], bool]]] = [
        (created(d, owners=("bob",)), lambda v: v["label"] == f"Deployment {d}"),
        (
            ev.DeploymentImportanceChanged(deployment_id=d, importance=Importance.HIGH),
            lambda v: v["importance"] == "HIGH",
        ),
        (health_report(d, "drift", "failing", message="age"), lambda v: v["health"]["drift"]["status"] == "failing"),
        (predictions(d, 7, at(25)), lambda v: v["predictions"]["total"] == 7),
        (
            ev.ModelReplaced(deployment_id=d, model_package=package("pkg-2"), reason="DATA_DRIFT"),
            lambda v: v["model_package"]["id"] == "pkg-2",
        ),
        (ev.DeploymentShared(deployment_id=d, principal="carol", role="USER"), lambda v: len(v["access"]) == 3),
        (ev.DeploymentDeactivated(deployment_id=d), lambda v: v["status"] == "inactive"),
    ]
    snapshots = []
    for minute, (event, shows) in enumerate(steps):
        await publisher.emit(namespace, event, time=at(minute * 10))
        snapshots.append(await inventory_shows(inventory, d, shows))

    for minute, snapshot in enumerate(snapshots):
        moment = at(minute * 10 + 5).isoformat()  # between this event and the next
        past = await lifecycle(infra, namespace, "at", d, moment, "--json")
        assert without(past.json(), TIME_RELATIVE) == without(snapshot, TIME_RELATIVE), f"at {moment}"
    exactly = await lifecycle(infra, namespace, "at", d, at(10).isoformat().replace("+00:00", "Z"), "--json")
    assert exactly.json()["importance"] == "HIGH", "an event at TIME itself is part of the state at TIME"

    card = await lifecycle(infra, namespace, "at", d, at(45).isoformat())
    assert card.code == 0, card.output
    for fragment in ("as at 2026-11-01T12:45:00Z", "HIGH", "failing", "model pkg-2", "DATA_DRIFT", "replaced"):
        assert fragment in card.stdout, card.stdout
    now = await lifecycle(infra, namespace, "at", d, "1s", "--json")
    assert now.json()["status"] == "inactive"

    before = await lifecycle(infra, namespace, "at", d, at(-1).isoformat())
    assert before.code == 3, before.output
    assert before.stderr == f"lifecycle: deployment {d} did not exist yet at 2026-11-01T11:59:00Z\n"


async def test_history_tells_who_what_when_why_and_the_command_with_its_outcome(
    actions: RunningActions, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    d = "trail-1"
    await registered(actions, d)  # by alice, through the actions service's HTTP edge
    raised = await actions.completed(f"/deployments/{d}/importance", {"importance": "LOW"}, "bob-token")
    # Refused by the handler: carol has no role (the edge would refuse it at once, so it is sent as another
    # service would send it).
    activate = cmd.ActivateDeployment(command_id="cmd-activate", deployment_id=d, actor=Actor(user="carol"))
    await sent(publisher, namespace, activate)
    rejected = await actions.settled("cmd-activate")
    assert rejected["status"] == "rejected", rejected
    replaced = ev.ModelReplaced(deployment_id=d, model_package=package("pkg-2"), reason="ACCURACY", note="better AUC")
    await publisher.emit(namespace, replaced, actor="mlops")
    await publisher.emit(namespace, health_report(d, "service", "failing", message="5xx"), actor="monitor")

    trail = await history(infra, namespace, d)
    rows = [(e["kind"], e["type"], e["actor"]) for e in trail]
    assert rows == [
        ("command", "RegisterDeployment", "alice"),
        ("event", "DeploymentCreated", "alice"),
        ("command", "ChangeImportance", "bob"),
        ("event", "DeploymentImportanceChanged", "bob"),
        ("command", "ActivateDeployment", "carol"),
        ("event", "CommandRejected", "carol"),
        ("event", "ModelReplaced", "mlops"),
        ("event", "ServiceHealthChanged", "monitor"),
    ]
    assert [(e["time"], e["id"]) for e in trail] == sorted((e["time"], e["id"]) for e in trail)
    by_type = {e["type"]: e for e in trail}
    assert by_type["RegisterDeployment"]["outcome"] == "completed: DeploymentCreated"
    change = by_type["DeploymentImportanceChanged"]
    assert change["summary"] == "importance MODERATE -> LOW"
    assert (change["command_type"], change["command_id"]) == ("ChangeImportance", raised["command_id"])
    assert by_type["ChangeImportance"]["summary"] == "requested importance LOW"
    assert by_type["ActivateDeployment"]["outcome"].startswith("rejected (forbidden): carol has no role")
    assert by_type["CommandRejected"]["command_id"] == "cmd-activate"
    assert by_type["ModelReplaced"]["summary"] == "model pkg-1 -> pkg-2, reason ACCURACY"
    assert by_type["ModelReplaced"]["why"] == "ACCURACY; better AUC"
    assert by_type["ServiceHealthChanged"]["summary"] == "service health unknown -> failing"
    assert by_type["ServiceHealthChanged"]["why"] == "5xx" and by_type["ServiceHealthChanged"]["command_id"] is None
    assert trail == await history(infra, namespace, d), "the same trail, in the same order, every time"

    table = await lifecycle(infra, namespace, "history", d)
    assert table.code == 0, table.output
    for fragment in ("audit trail of trail-1: 8 entries", "importance MODERATE -> LOW", "rejected (forbidden)"):
        assert fragment in table.stdout, table.stdout
    assert table.stdout.index("DeploymentCreated") < table.stdout.index("ModelReplaced")


async def history(infra: Infra, namespace: str, deployment_id: str) -> list[dict[str, Any]]:
    result: Result = await lifecycle(infra, namespace, "history", deployment_id, "--json")
    entries: list[dict[str, Any]] = result.json()["entries"]
    return entries


def without(body: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name not in fields}
