"""The actions process is SIGKILLed between a command's state write and the publish of its events, then
restarted: the same event ids are published, exactly once.

The kill comes from the service itself, through its test-only fault injection
(`ACTIONS_COMMANDS__FAULT=kill-after-state-write`, see services/actions/bootstrap.py), so it lands
exactly in the window that matters; the restart runs without it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.contract.envelope import derived_id
from shared.storage.mongo import mongo_client
from tests.fixtures.actions import read_topic
from tests.infra import ROOT, Infra
from tests.support import eventually, free_port

pytestmark = pytest.mark.integration
COMMAND_ID = "register-then-die"


class ActionsProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, **extra_env: str) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.actions"],
                cwd=ROOT,
                env={**self.env, **extra_env},
                stdout=out,
                stderr=out,
            )

    async def exited(self, within: float = 30) -> int:
        assert self.process is not None
        for _ in range(int(within * 10)):
            if (code := self.process.poll()) is not None:
                return code
            await asyncio.sleep(0.1)
        raise AssertionError(f"still running after {within}s; log:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def service(infra: Infra, namespace: str, tmp_path: Path) -> Iterator[tuple[ActionsProcess, str]]:
    port = free_port()
    env = {
        **os.environ,
        "LIFECYCLE_KAFKA__BOOTSTRAP_SERVERS": infra.kafka,
        "LIFECYCLE_KAFKA__TOPIC_NAMESPACE": namespace,
        "LIFECYCLE_KAFKA__TOPIC_PARTITIONS": "3",
        "LIFECYCLE_MONGO__URL": infra.mongo_url,
        "ACTIONS_MONGO__DATABASE": f"act_{namespace}",
        "ACTIONS_HTTP__PORT": str(port),
        "ACTIONS_CONSUMER__BATCH_TIMEOUT_MS": "20",
        "ACTIONS_COMMANDS__SWEEP_INTERVAL_S": "0.5",
        "ACTIONS_API_TOKENS": '{"alice-token": {"user": "alice"}}',
    }
    process = ActionsProcess(env, tmp_path / "actions.log")
    yield process, f"http://127.0.0.1:{port}"
    process.stop()


async def test_killed_after_the_state_write_the_restart_publishes_the_same_events_once(
    service: tuple[ActionsProcess, str], infra: Infra, namespace: str
) -> None:
    process, url = service
    topic = f"{namespace}.deployment"
    expected_id = derived_id(COMMAND_ID, "0")
    headers = {"Authorization": "Bearer alice-token", "Idempotency-Key": COMMAND_ID}
    body = {
        "id": "d-killed",
        "label": "Churn",
        "model_package": {"id": "pkg-1", "name": "churn v1", "target_name": "churn", "target_type": "Binary"},
        "prediction_environment": {"id": "env-1", "name": "prod", "platform": "aws"},
    }
    db = mongo_client(infra.mongo_url)[f"act_{namespace}"]
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:

        async def ready() -> None:
            try:
                response = await http.get("/readyz")
            except httpx.TransportError as exc:
                raise AssertionError(str(exc)) from exc
            assert response.status_code == 200, response.text

        process.start(ACTIONS_COMMANDS__FAULT="kill-after-state-write")
        await eventually(ready, within=60, interval=0.25)
        assert (await http.post("/deployments", json=body, headers=headers)).status_code == 202
        assert await process.exited() == -signal.SIGKILL

        document = await db.deployments.find_one({"_id": "d-killed"})
        assert document is not None and document["has_pending"], document
        assert [event["id"] for event in document["outbox"]] == [expected_id]
        assert [e for e in await read_topic(infra.kafka, topic) if e.source == "actions"] == [], (
            "published before dying"
        )

        process.start()
        await eventually(ready, within=60, interval=0.25)

        async def completed() -> None:
            response = await http.get(f"/commands/{COMMAND_ID}", headers=headers)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "completed", response.json()
            assert response.json()["event_ids"] == [expected_id]
            again = await db.deployments.find_one({"_id": "d-killed"})
            assert again is not None and not again["has_pending"], again

        await eventually(completed, within=60, interval=0.25)
        # The redelivered command ran already and several sweeps have passed: nothing more to publish.
        resent = await http.post("/deployments", json=body, headers=headers)
        assert resent.status_code == 202 and resent.json()["status"] == "completed"
        await asyncio.sleep(2)
        published = [e for e in await read_topic(infra.kafka, topic) if e.source == "actions"]
        assert [(e.type, e.id) for e in published] == [("DeploymentCreated", expected_id)]
    await db.client.drop_database(f"act_{namespace}")
    await db.client.close()
