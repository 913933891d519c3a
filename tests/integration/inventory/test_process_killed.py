"""The inventory process is killed with SIGKILL mid-stream and restarted: nothing is lost, no
prediction is counted twice, and the summary counters equal a recount of the documents for every
kind of caller."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.contract import events as ev
from shared.contract.events.values import PrincipalType, Role
from shared.contract.messages import Message
from shared.storage.mongo import mongo_client
from tests.infra import ROOT, Infra
from tests.integration.inventory.recount import assert_counters_exact
from tests.support import Publisher, at, created, eventually, free_port

DEPLOYMENTS = [f"kill-{n}" for n in range(10)]
PER_DEPLOYMENT = 800


class ServiceProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.inventory"], cwd=ROOT, env=self.env, stdout=out, stderr=out
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def service(infra: Infra, namespace: str, tmp_path: Path) -> Iterator[tuple[ServiceProcess, str]]:
    port = free_port()
    env = {
        **os.environ,
        "LIFECYCLE_KAFKA__BOOTSTRAP_SERVERS": infra.kafka,
        "LIFECYCLE_KAFKA__TOPIC_NAMESPACE": namespace,
        "LIFECYCLE_KAFKA__TOPIC_PARTITIONS": "3",
        "LIFECYCLE_MONGO__URL": infra.mongo_url,
        "INVENTORY_MONGO__DATABASE": f"inv_{namespace}",
        "INVENTORY_HTTP__PORT": str(port),
        "INVENTORY_CONSUMER__BATCH_MAX_RECORDS": "40",
        "INVENTORY_CONSUMER__BATCH_TIMEOUT_MS": "20",
        "INVENTORY_API_TOKENS": '{"admin-token": {"user": "admin", "admin": true}}',
    }
    process = ServiceProcess(env, tmp_path / "inventory.log")
    yield process, f"http://127.0.0.1:{port}"
    process.stop()
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import pymongo; pymongo.MongoClient({infra.mongo_url!r}).drop_database('inv_{namespace}')",
        ],
        check=False,
        timeout=60,
    )


async def totals(http: httpx.AsyncClient) -> dict[str, int]:
    response = await http.get("/deployments", params={"limit": 100}, headers={"Authorization": "Bearer admin-token"})
    response.raise_for_status()
    return {d["id"]: d["predictions"]["total"] for d in response.json()["data"]}


def history() -> list[tuple[Message, object]]:
    """Creations with owners, group and consumer shares, then predictions with a deactivation and
    health reports among them."""
    items: list[tuple[Message, object]] = []
    for n, deployment in enumerate(DEPLOYMENTS):
        items.append((created(deployment, owners=("bob",) if n % 3 == 1 else ()), at(0)))
        if n % 3 == 0:
            group = ev.DeploymentShared(
                deployment_id=deployment, principal="ml-team", principal_type=PrincipalType.GROUP, role=Role.USER
            )
            items.append((group, at(0.5)))
        if n % 4 == 0:
            items.append((ev.DeploymentShared(deployment_id=deployment, principal="dave", role=Role.CONSUMER), at(0.6)))
    for k in range(PER_DEPLOYMENT):
        items += [(ev.PredictionsRecorded(deployment_id=d, count=1, predicted_at=at(k)), None) for d in DEPLOYMENTS]
        if k == PER_DEPLOYMENT // 3:
            items.append((ev.DeploymentDeactivated(deployment_id=DEPLOYMENTS[5]), at(k)))
        if k == PER_DEPLOYMENT // 2:
            items += [(ev.DriftDetected(deployment_id=d, status="failing"), at(k)) for d in DEPLOYMENTS[::2]]
    return items


async def test_killed_mid_stream_then_restarted_counts_every_prediction_once(
    service: tuple[ServiceProcess, str], publisher: Publisher, namespace: str, infra: Infra
) -> None:
    process, url = service
    process.start()
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:

        async def ready() -> None:
            try:
                response = await http.get("/readyz")
            except httpx.TransportError as exc:
                raise AssertionError(str(exc)) from exc
            assert response.status_code == 200, response.text

        await eventually(ready, within=60, interval=0.25)
        await publisher.emit_many(namespace, history())  # type: ignore[arg-type]

        async def partly_applied() -> None:
            assert 0 < sum((await totals(http)).values()) < PER_DEPLOYMENT * len(DEPLOYMENTS)

        await eventually(partly_applied, within=60, interval=0.02)
        process.kill()
        process.start()
        await eventually(ready, within=60, interval=0.25)

        async def complete() -> None:
            assert await totals(http) == dict.fromkeys(DEPLOYMENTS, PER_DEPLOYMENT)

        await eventually(complete, within=120, interval=0.5)

    client = mongo_client(infra.mongo_url)
    try:
        await eventually(lambda: assert_counters_exact(client[f"inv_{namespace}"]), within=60, interval=0.5)
    finally:
        await client.close()
