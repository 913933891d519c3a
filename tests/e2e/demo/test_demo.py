"""`make run`'s demo against the real stack: the five services as processes (as infra/services.sh starts
them) on free ports, in a namespace and databases of their own on the test infrastructure, and the demo
pointed at them plays the whole journey; played again, it takes fresh ids and plays it all again."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from shared.storage.mongo import mongo_client
from tests.infra import ROOT, Infra
from tests.support import free_port

pytestmark = pytest.mark.integration

SERVICES = {"inventory": "inv", "actions": "act", "replacement": "rep", "retraining": "ret", "trainer": "trn"}
"""Each service and the prefix of its database (as tests/fixtures name them)."""
DEV_TOKENS = (
    '{"dev-admin-token": {"user": "admin", "admin": true}, "dev-alice-token": {"user": "alice"}, '
    '"dev-bob-token": {"user": "bob"}}'
)


@pytest_asyncio.fixture
async def stack(infra: Infra, namespace: str, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """The environment that points the demo at five running services; their databases are dropped after."""
    env = {
        **os.environ,
        "LIFECYCLE_KAFKA__BOOTSTRAP_SERVERS": infra.kafka,
        "LIFECYCLE_KAFKA__TOPIC_NAMESPACE": namespace,
        "LIFECYCLE_KAFKA__TOPIC_PARTITIONS": "3",
        "LIFECYCLE_MONGO__URL": infra.mongo_url,
        "LIFECYCLE_API_TOKENS": DEV_TOKENS,
        "LIFECYCLE_LOG__LEVEL": "WARNING",
        "LIFECYCLE_HOME": str(tmp_path),
        "TRAINER_TRAINING__MODEL_DIR": str(tmp_path / "models"),
        "TRAINER_TRAINING__TREE_COUNT": "10",
        "COLUMNS": "160",
    }
    for service, prefix in SERVICES.items():
        port = free_port()
        env[f"{service.upper()}_HTTP__PORT"] = str(port)
        env[f"{service.upper()}_MONGO__DATABASE"] = f"{prefix}_{namespace}"
        if service != "trainer":
            env[f"LIFECYCLE_{service.upper()}_URL"] = f"http://127.0.0.1:{port}"
    try:
        with running(env, tmp_path):
            yield env
    finally:
        client = mongo_client(infra.mongo_url)
        for prefix in SERVICES.values():
            await client.drop_database(f"{prefix}_{namespace}")
        await client.close()


@contextlib.contextmanager
def running(env: dict[str, str], logs: Path) -> Iterator[None]:
    processes = []
    try:
        for service in SERVICES:
            log = (logs / f"{service}.log").open("wb")
            command = [sys.executable, "-m", f"services.{service}"]
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        for service in SERVICES:
            wait_ready(service, int(env[f"{service.upper()}_HTTP__PORT"]), logs)
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_ready(service: str, port: int, logs: Path, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                return
        time.sleep(0.3)
    raise AssertionError(f"{service} not ready:\n{(logs / f'{service}.log').read_text()[-3000:]}")


def demo(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tools.demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert result.stderr == "", result.stderr
    return result.stdout


@pytest.mark.timeout(600)
def test_the_demo_plays_the_whole_loop_and_again_with_fresh_ids(stack: dict[str, str]) -> None:
    first = demo(stack)
    for shown in (
        "churn-scorer: registered by alice",
        "ticket-router: DeploymentCreated published",
        "steps: preparing_data -> training -> registering_package -> replacing_model",
        "DriftDetected",
        "run succeeded",
        "target_type",  # a replacement check, by name
        "the inventory shows fraud-detector inactive",
        "audit trail of churn-scorer",
        "ModelReplaced",
        "drift passing → warning",  # the inventory's trail says what changed
        "lifecycle --help",
    ):
        assert shown in first, f"{shown!r} not in:\n{first}"

    second = demo(stack)
    assert "run demo-2" in second and "the inventory shows fraud-detector-2 inactive" in second, second
    assert "run succeeded" in second, second
