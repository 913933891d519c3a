"""The operators' CLI against a real broker: audit trail with time travel, dead-letter re-drive, and
replay and audit over a log holding records that cannot be read or applied."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from services.inventory.adapters.store import InventoryStore
from services.inventory.domain.evolve import evolve
from shared.contract import events as ev
from shared.contract.envelope import to_structured, wrap
from shared.contract.events.values import Importance
from shared.contract.topology import Topics
from shared.messaging.consumer import Inbound
from shared.storage.mongo import mongo_client
from tests.fixtures.inventory import RunningService
from tests.infra import ROOT, Infra
from tests.support import Publisher, at, created, eventually, health_report, package
from tools import cli


def cli_environment(infra: Infra, namespace: str, database: str | None = None) -> dict[str, str]:
    return {
        "LIFECYCLE_KAFKA__BOOTSTRAP_SERVERS": infra.kafka,
        "LIFECYCLE_KAFKA__TOPIC_NAMESPACE": namespace,
        "LIFECYCLE_MONGO__URL": infra.mongo_url,
        **({"INVENTORY_MONGO__DATABASE": database} if database else {}),
        "COLUMNS": "200",
    }


async def lifecycle(infra: Infra, namespace: str, *args: str, database: str | None = None) -> str:
    env = {**os.environ, **cli_environment(infra, namespace, database)}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tools.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )

    result = await asyncio.to_thread(run)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


async def test_audit_shows_the_trail_and_the_state_at_a_past_time(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    await publisher.emit(namespace, created("cli-1"), time=at(0))
    await publisher.emit(namespace, ev.DeploymentDeactivated(deployment_id="cli-1"), time=at(10))
    replaced = ev.ModelReplaced(deployment_id="cli-1", model_package=package("pkg-9"), reason="ACCURACY")
    await publisher.emit(namespace, replaced, time=at(20))

    trail = await lifecycle(infra, namespace, "audit", "cli-1", "--at", at(15).isoformat())
    assert trail.index("DeploymentCreated") < trail.index("DeploymentDeactivated") < trail.index("ModelReplaced")
    assert "status=inactive model=model pkg-1" in trail  # before the replacement at minute 20


async def test_dead_letters_can_be_listed_and_re_driven_to_their_source(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    topics = Topics(namespace)
    # A letter whose cause has since been fixed: re-driving it must apply it.
    value, headers = to_structured(wrap(created("cli-2"), source="upstream"))
    letter_headers = [
        *headers,
        ("dlq-error-code", b"unknown-type"),
        ("dlq-error", b"unknown message type"),
        ("dlq-source-topic", topics.deployment_events.encode()),
        ("dlq-source-partition", b"0"),
        ("dlq-source-offset", b"7"),
        ("dlq-service", b"inventory"),
        ("dlq-id", b"letter-1"),
    ]
    # A crash between publishing a letter and recording it in the ledger sends it twice, same dlq-id.
    await publisher.send(topics.dead_letters, value, b"cli-2", letter_headers)
    await publisher.send(topics.dead_letters, value, b"cli-2", letter_headers)
    assert (await inventory.get("/deployments/cli-2")).status_code == 404

    listing = await lifecycle(infra, namespace, "dead-letters", "list")
    assert "unknown-type" in listing
    assert "1 dead letters" in listing
    assert "cli-2" in listing
    dry_run = await lifecycle(infra, namespace, "dead-letters", "redrive", "--code", "unknown-type")
    assert "1 letters would be re-driven" in dry_run
    await lifecycle(infra, namespace, "dead-letters", "redrive", "--code", "unknown-type", "--yes")

    async def applied() -> None:
        response = await inventory.get("/deployments/cli-2")
        assert response.status_code == 200
        assert orjson.loads(response.content)["label"] == "Deployment cli-2"

    await eventually(applied)


def naive(value: bytes) -> bytes:
    """The same structured event with its time stripped of the UTC offset, as a careless producer sends it."""
    event = orjson.loads(value)
    event["time"] = event["time"][:19]
    return orjson.dumps(event)


async def test_replay_and_audit_skip_and_report_a_record_with_a_naive_time(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    """The poison of the field report: a health report without UTC offset after one with it."""
    topic = Topics(namespace).monitoring_events
    await publisher.emit(namespace, created("naive-1"), time=at(0))
    await publisher.emit(namespace, health_report("naive-1", "service", "passing"), time=at(1))
    value, headers = to_structured(wrap(health_report("naive-1", "service", "failing"), source="upstream", time=at(2)))
    await publisher.send(topic, naive(value), b"naive-1", headers)
    await publisher.emit(namespace, health_report("naive-1", "drift", "warning"), time=at(3))

    trail = await lifecycle(infra, namespace, "audit", "naive-1")
    assert "shown 3, skipped 1: " in trail
    assert "bad-envelope" in trail
    database = inventory.settings.mongo.database
    rebuilt = await lifecycle(infra, namespace, "replay", "--collection", "rebuilt", database=database)
    assert "replayed 3, skipped 1: " in rebuilt
    assert f"{topic}[" in rebuilt
    assert "bad-envelope" in rebuilt


async def test_replay_and_audit_skip_and_report_a_record_the_inventory_fails_on(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra, monkeypatch: pytest.MonkeyPatch
) -> None:
    await publisher.emit(namespace, created("choke-1"), time=at(0))
    importance = ev.DeploymentImportanceChanged(deployment_id="choke-1", importance=Importance.CRITICAL)
    await publisher.emit(namespace, importance, time=at(1), event_id="evt-choke")
    await publisher.emit(namespace, ev.DeploymentDeactivated(deployment_id="choke-1"), time=at(2))

    async def live() -> None:
        response = await inventory.get("/deployments/choke-1")
        assert response.status_code == 200
        assert response.json()["status"] == "inactive"

    await eventually(live)
    # The inventory's code fails on that one event, in the audit's fold and in the projection's apply.
    monkeypatch.setattr("tools.cli.evolve", choking(evolve))
    apply = InventoryStore.apply

    async def choking_apply(store: InventoryStore, batch: Sequence[Inbound]) -> int:
        if any(item.envelope.id == "evt-choke" for item in batch):
            raise ValueError("cannot fold evt-choke")
        return await apply(store, batch)

    monkeypatch.setattr(InventoryStore, "apply", choking_apply)
    for name, value in cli_environment(infra, namespace, inventory.settings.mongo.database).items():
        monkeypatch.setenv(name, value)

    trail = await in_process("audit", "choke-1")
    assert "shown 2, skipped 1: " in trail
    assert "handler-error: ValueError: cannot fold evt-choke" in trail
    rebuilt = await in_process("replay", "--collection", "rebuilt")
    assert "replayed 2, skipped 1: " in rebuilt
    assert "handler-error: ValueError: cannot fold evt-choke" in rebuilt
    client = mongo_client(infra.mongo_url)
    try:
        view = await InventoryStore(client[inventory.settings.mongo.database], "rebuilt").get("choke-1")
    finally:
        await client.close()
    assert view is not None
    assert (view.status, view.importance) == ("inactive", Importance.MODERATE)


def choking(evolve: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(view: Any, event: Any) -> Any:
        if event.id == "evt-choke":
            raise ValueError("cannot fold evt-choke")
        return evolve(view, event)

    return wrapped


async def in_process(*args: str) -> str:
    """Run the CLI in this process (so that the test can wrap the inventory's code), in a thread of its own
    because it runs its own event loop."""
    result = await asyncio.to_thread(CliRunner().invoke, cli.app, list(args))
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result.output
