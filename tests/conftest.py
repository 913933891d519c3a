"""Fixtures: real infrastructure for the session, an isolated namespace and database per test."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI

from services.inventory.bootstrap import create_app
from services.inventory.settings import ApiUser, InventorySettings
from shared.contract.topology import Topics
from shared.storage.mongo import mongo_client
from tests.infra import Infra, provide
from tests.support import Publisher

TOKENS = {
    "admin-token": ApiUser(user="admin", admin=True),
    "alice-token": ApiUser(user="alice"),
    "bob-token": ApiUser(user="bob", groups=("ml-team",)),
    "carol-token": ApiUser(user="carol"),
}


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    with provide() as provided:
        yield provided


@pytest.fixture
def namespace() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@pytest_asyncio.fixture(scope="session")
async def publisher(infra: Infra) -> AsyncIterator[Publisher]:
    producer = Publisher(infra.kafka)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
def inventory_settings(infra: Infra, namespace: str) -> InventorySettings:
    return settings_for(infra, namespace)


def settings_for(infra: Infra, namespace: str) -> InventorySettings:
    """Inventory settings isolated to one namespace (topics) and one database."""
    return InventorySettings(
        kafka_bootstrap_servers=infra.kafka,
        mongo_url=infra.mongo_url,
        mongo_database=f"inv_{namespace}",
        topic_namespace=namespace,
        topic_partitions=3,
        batch_timeout_ms=50,
        retry_backoff_s=0.2,
        log_json=False,
        log_level="WARNING",
        api_tokens=TOKENS,
    )


@dataclasses.dataclass
class RunningService:
    app: FastAPI
    http: httpx.AsyncClient
    settings: InventorySettings

    async def get(self, path: str, token: str = "admin-token", **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


@pytest_asyncio.fixture
async def inventory(inventory_settings: InventorySettings) -> AsyncIterator[RunningService]:
    async with running_inventory(inventory_settings) as service:
        yield service


@contextlib.asynccontextmanager
async def running_inventory(settings: InventorySettings) -> AsyncIterator[RunningService]:
    """The real app with its lifespan (broker, consumer, database) and an HTTP client; dropped after."""
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://inventory") as http:
                yield RunningService(app, http, settings)
    finally:
        await _drop(settings)


async def _drop(settings: InventorySettings) -> None:
    client = mongo_client(settings.mongo_url)
    await client.drop_database(settings.mongo_database)
    await client.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.delete_topics(Topics(settings.topic_namespace).all())
    except Exception:
        pass  # best effort; topics are namespaced per test anyway
    finally:
        await admin.close()
