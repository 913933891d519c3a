"""/readyz tells the truth about the consumer: not ready (503, with the reason) while it cannot make
progress, ready again once it does; `lifecycle_consumer_stalled` shows the same in /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest_asyncio
from pymongo.errors import NetworkTimeout

from services.inventory.settings import InventorySettings
from shared.contract import events as ev
from shared.messaging.consumer import BatchConsumer, Inbound
from shared.service.settings import ConsumerSettings, MongoSettings
from tests.fixtures.inventory import RunningService, running_inventory, settings_for
from tests.fixtures.private_database import PrivateDatabase
from tests.infra import Infra
from tests.support import Publisher, at, created, eventually


def impatient(settings: InventorySettings, **over: Any) -> InventorySettings:
    """Settings that call a consumer stalled after half a second of failed retries."""
    consumer = ConsumerSettings(
        **(settings.consumer.model_dump() | {"stalled_after_s": 0.5, "retry_backoff_max_s": 0.5})
    )
    return settings.model_copy(update={"consumer": consumer, **over})


async def readiness(service: RunningService) -> tuple[int, dict[str, Any]]:
    response = await service.http.get("/readyz")
    return response.status_code, dict(response.json())


async def stalled_gauge(service: RunningService) -> str:
    text = (await service.http.get("/metrics")).text
    return next(line for line in text.splitlines() if line.startswith("lifecycle_consumer_stalled "))


@pytest_asyncio.fixture
async def inventory_stalling_early(infra: Infra, namespace: str) -> AsyncIterator[RunningService]:
    async with running_inventory(impatient(settings_for(infra, namespace))) as service:
        yield service


async def test_not_ready_while_the_handler_keeps_failing_transiently_and_ready_once_it_succeeds(
    inventory_stalling_early: RunningService, publisher: Publisher, namespace: str
) -> None:
    service = inventory_stalling_early
    consumer: BatchConsumer = service.app.state.consumer
    outage = True
    real = consumer.handler

    async def unreachable(batch: Sequence[Inbound]) -> object:
        if outage:
            raise NetworkTimeout("timed out")
        return await real(batch)

    consumer.handler = unreachable
    assert (await readiness(service))[0] == 200
    await publisher.emit(namespace, created("stall-1"), time=at(0))

    async def not_ready() -> dict[str, Any]:
        status, body = await readiness(service)
        assert status == 503, body
        return body

    body = await eventually(not_ready)
    assert body["checks"]["database"] == "ok"
    assert "stalled" in body["checks"]["consumer"]
    assert "NetworkTimeout" in body["checks"]["consumer"]
    assert await stalled_gauge(service) == "lifecycle_consumer_stalled 1.0"

    outage = False

    async def ready_again() -> None:
        status, body = await readiness(service)
        assert status == 200, body
        assert (await service.get("/deployments/stall-1")).status_code == 200

    await eventually(ready_again)
    assert await stalled_gauge(service) == "lifecycle_consumer_stalled 0.0"


async def test_not_ready_during_a_database_outage_and_ready_after(
    infra: Infra, namespace: str, private_database: PrivateDatabase, publisher: Publisher
) -> None:
    mongo = MongoSettings(url=private_database.url, database=f"inv_{namespace}")
    async with running_inventory(impatient(settings_for(infra, namespace), mongo=mongo)) as service:
        await publisher.emit(namespace, created("outage-1"), time=at(0))

        async def listed() -> None:
            assert (await service.get("/deployments/outage-1")).status_code == 200
            assert (await readiness(service))[0] == 200

        await eventually(listed, within=60)
        private_database.kill()
        await publisher.emit(namespace, ev.PredictionsRecorded(deployment_id="outage-1", count=3, predicted_at=at(1)))

        async def consumer_stalled() -> None:
            status, body = await readiness(service)
            assert status == 503, body
            assert "stalled" in body["checks"]["consumer"], body

        # The driver gives up on a server after its selection timeout (10 s); then retries begin.
        await eventually(consumer_stalled, within=60, interval=0.5)
        assert await stalled_gauge(service) == "lifecycle_consumer_stalled 1.0"
        private_database.start()

        async def recovered() -> None:
            status, body = await readiness(service)
            assert status == 200, body
            response = await service.get("/deployments/outage-1")
            assert response.json()["predictions"]["total"] == 3

        await eventually(recovered, within=90, interval=0.5)
        assert await stalled_gauge(service) == "lifecycle_consumer_stalled 0.0"
