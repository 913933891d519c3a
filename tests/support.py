"""Helpers shared by the integration tests: event factories, a raw producer, polling."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaProducer

from shared.contract import events as ev
from shared.contract.envelope import Envelope, to_structured, wrap
from shared.contract.events.values import ModelPackageRef, PredictionEnvironment, TargetType
from shared.contract.messages import Message
from shared.contract.topology import Topics

T = TypeVar("T")
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


async def eventually(check: Callable[[], Awaitable[T]], within: float = 30.0, interval: float = 0.1) -> T:
    """Retry `check` until it stops raising AssertionError, or fail with its last error."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(interval)


async def settled(http: httpx.AsyncClient, command_id: str, token: str = "admin-token") -> dict[str, Any]:
    """A command's status (`GET /commands/{id}`, any service's) once it is no longer `accepted`."""

    async def check() -> dict[str, Any]:
        response = await http.get(f"/commands/{command_id}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        status: dict[str, Any] = response.json()
        assert status["status"] != "accepted", status
        return status

    return await eventually(check)


class CommandClient:
    """The HTTP side of a command service under test (its `http` client): requests with a caller's token,
    commands that must be accepted, and their outcome."""

    http: httpx.AsyncClient

    async def request(
        self, method: str, path: str, body: Any = None, token: str | None = "alice-token", **headers: str
    ) -> httpx.Response:
        sent = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.http.request(method, path, json=body, headers={**sent, **headers})

    async def get(self, path: str, token: str = "alice-token") -> httpx.Response:
        return await self.request("GET", path, None, token)

    async def accepted(self, method: str, path: str, body: Any = None, token: str = "alice-token") -> dict[str, Any]:
        """Send a command that must be accepted (202); the answer."""
        response = await self.request(method, path, body, token)
        assert response.status_code == 202, response.text
        answer: dict[str, Any] = response.json()
        assert response.headers["Location"] == f"/commands/{answer['command_id']}" == answer["status_url"]
        return answer

    async def settled(self, command_id: str, token: str = "admin-token") -> dict[str, Any]:
        """The command's status once it is no longer `accepted`."""
        return await settled(self.http, command_id, token)


def package(package_id: str = "pkg-1", target_type: TargetType = TargetType.BINARY, **over: Any) -> ModelPackageRef:
    values: dict[str, Any] = {
        "id": package_id,
        "name": f"model {package_id}",
        "target_name": "churn",
        "target_type": target_type,
    }
    return ModelPackageRef(**(values | over))


def created(deployment_id: str, **over: Any) -> ev.DeploymentCreated:
    values: dict[str, Any] = {
        "deployment_id": deployment_id,
        "label": f"Deployment {deployment_id}",
        "description": "scores customers",
        "model_package": package(),
        "prediction_environment": PredictionEnvironment(id="env-1", name="prod", platform="aws"),
        "created_by": "alice",
    }
    return ev.DeploymentCreated(**(values | over))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Publisher:
    """A plain aiokafka producer, so tests do not depend on the code they check."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=True, linger_ms=2)
        await self.producer.start()

    async def stop(self) -> None:
        if self.producer:
            await self.producer.stop()

    async def send(
        self, topic: str, value: bytes | None, key: bytes | None = None, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        assert self.producer is not None
        await self.producer.send_and_wait(topic, value=value, key=key, headers=headers or [])

    async def emit(
        self,
        namespace: str,
        message: Message,
        *,
        time: datetime | None = None,
        event_id: str | None = None,
        actor: str | None = "tester",
    ) -> Envelope:
        envelope = wrap(message, source="tests", time=time, event_id=event_id or str(uuid.uuid4()), actor=actor)
        await self.send_envelope(namespace, envelope, message)
        return envelope

    async def send_envelope(self, namespace: str, envelope: Envelope, message: Message) -> None:
        value, headers = to_structured(envelope)
        await self.send(Topics(namespace).for_stream(message.stream), value, envelope.subject.encode(), headers)

    async def emit_many(self, namespace: str, items: list[tuple[Message, datetime | None]]) -> list[Envelope]:
        assert self.producer is not None
        envelopes, futures = [], []
        for message, time in items:
            envelope = wrap(message, source="tests", time=time, actor="tester")
            value, headers = to_structured(envelope)
            topic = Topics(namespace).for_stream(message.stream)
            futures.append(await self.producer.send(topic, value=value, key=envelope.subject.encode(), headers=headers))
            envelopes.append(envelope)
        await asyncio.gather(*futures)
        return envelopes


def applied(app: Any, type_name: str | None = None) -> float:
    """How many valid events the service's consumer has handed to its handler (of one type, or all),
    duplicates included: a marker that the consumer got past a point of the stream."""
    total = 0.0
    for metric in app.state.runtime.metrics.registry.collect():
        if metric.name != "lifecycle_events_applied":
            continue
        for sample in metric.samples:
            if sample.name.endswith("_total") and type_name in (None, sample.labels.get("type")):
                total += sample.value
    return total


async def until_applied(app: Any, count: int, type_name: str | None = None, within: float = 30.0) -> None:
    """Wait until the consumer has handled at least `count` events (of `type_name`, or of any type)."""

    async def reached() -> None:
        seen = applied(app, type_name)
        assert seen >= count, f"{seen:.0f} of {count} {type_name or 'events'} handled so far"

    await eventually(reached, within=within)


def health_report(deployment_id: str, dimension: str, status: str, **over: Any) -> ev.HealthReport:
    """A report for one health dimension: service, drift, accuracy or fairness."""
    kinds: dict[str, type[ev.HealthReport]] = {
        "service": ev.ServiceHealthChanged,
        "drift": ev.DriftDetected,
        "accuracy": ev.AccuracyChanged,
        "fairness": ev.FairnessChanged,
    }
    return kinds[dimension].model_validate({"deployment_id": deployment_id, "status": status, **over})


def predictions(deployment_id: str, count: int, predicted_at: datetime) -> ev.PredictionsRecorded:
    return ev.PredictionsRecorded(deployment_id=deployment_id, count=count, predicted_at=predicted_at)


def free_port() -> int:
    """A port nobody listens on right now (for a subprocess that binds it itself, or a closed address)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
