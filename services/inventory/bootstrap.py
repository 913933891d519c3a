"""Composition root: builds one inventory instance from its settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from services.inventory.adapters.store import InventoryStore
from services.inventory.entrypoints.http import read_api
from services.inventory.entrypoints.subscribers import ProjectionHandler
from services.inventory.settings import InventorySettings
from shared.contract.messages import registry
from shared.messaging.consumer import BatchConsumer
from shared.service.runtime import Runtime, service_app


def create_app(settings: InventorySettings | None = None) -> FastAPI:
    settings = settings or InventorySettings()
    runtime = Runtime(settings)
    store = InventoryStore(runtime.db)
    consumer = BatchConsumer(
        service=settings.service_name,
        registry=registry,
        publisher=runtime.publisher,
        handler=ProjectionHandler(store, runtime.metrics),
        metrics=runtime.metrics,
        retry_backoff_s=settings.consumer.retry_backoff_s,
    )
    topics = settings.topics
    consumer.subscribe(
        runtime.broker,
        [topics.deployment_events, topics.monitoring_events],
        group_id=settings.group_id,
        max_records=settings.consumer.batch_max_records,
        timeout_ms=settings.consumer.batch_timeout_ms,
    )

    async def prune() -> None:
        horizon = datetime.now(UTC) - timedelta(days=settings.consumer.dedupe_horizon_days)
        await store.prune_dedupe_ledger(horizon)

    app = service_app(
        runtime,
        title="Lifecycle inventory",
        description="Every deployment with its model, importance, status, health and usage.",
        routers=[read_api(store, settings)],
        on_start=[store.create_indexes],
        periodic=[(3600, prune)],
    )
    app.state.store = store
    return app
