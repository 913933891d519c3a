"""The operators' CLI against a real broker: audit trail with time travel, dead-letter re-drive."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import orjson

from shared.contract import events as ev
from shared.contract.envelope import to_structured, wrap
from shared.contract.topology import Topics
from tests.fixtures.inventory import RunningService
from tests.infra import ROOT, Infra
from tests.support import Publisher, at, created, eventually, package


async def lifecycle(infra: Infra, namespace: str, *args: str) -> str:
    env = {
        **os.environ,
        "LIFECYCLE_KAFKA__BOOTSTRAP_SERVERS": infra.kafka,
        "LIFECYCLE_KAFKA__TOPIC_NAMESPACE": namespace,
        "COLUMNS": "200",
    }

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
    ]
    await publisher.send(topics.dead_letters, value, b"cli-2", letter_headers)
    assert (await inventory.get("/deployments/cli-2")).status_code == 404

    listing = await lifecycle(infra, namespace, "dead-letters", "list")
    assert "unknown-type" in listing
    assert "cli-2" in listing
    dry_run = await lifecycle(infra, namespace, "dead-letters", "redrive", "--code", "unknown-type")
    assert "1 letters would be re-driven" in dry_run
    await lifecycle(infra, namespace, "dead-letters", "redrive", "--code", "unknown-type", "--yes")

    async def applied() -> None:
        response = await inventory.get("/deployments/cli-2")
        assert response.status_code == 200
        assert orjson.loads(response.content)["label"] == "Deployment cli-2"

    await eventually(applied)
