"""Composition root: builds one inventory instance from its settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.inventory.adapters.store import InventoryStore
from services.inventory.domain.evolve import RULES
from services.inventory.entrypoints.http import read_api
from services.inventory.entrypoints.subscribers import ProjectionHandler
from services.inventory.entrypoints.web import web_page
from services.inventory.settings import InventorySettings
from shared.contract.catalog import ALL_EVENTS, build_registry
from shared.contract.messages import MessageRegistry
from shared.messaging.consumer import BatchConsumer, BatchHandler
from shared.messaging.dead_letters import LEDGER_COLLECTION, DeadLetters, MongoLedger
from shared.service.metrics import ServiceMetrics
from shared.service.runtime import Runtime, service_app
from shared.service.subscribers import subscribe


def inventory_registry() -> MessageRegistry:
    """Every event, since the topics carry them all; fails here, naming it, if one the inventory
    folds (a key of RULES) is missing, rather than dead-lettering each such record at run time."""
    return build_registry(*ALL_EVENTS, required=RULES, consumer="inventory")


def subscribe_projection(
    settings: InventorySettings,
    broker: KafkaBroker,
    handler: BatchHandler,
    dead_letters: DeadLetters,
    metrics: ServiceMetrics,
) -> BatchConsumer:
    """The inventory's one subscriber: both topics it folds, batched, into `handler`."""
    topics = [settings.topics.deployment_events, settings.topics.monitoring_events]
    return subscribe(
        settings,
        broker,
        topics,
        registry=inventory_registry(),
        handler=handler,
        dead_letters=dead_letters,
        metrics=metrics,
    )


def create_app(settings: InventorySettings | None = None) -> FastAPI:
    settings = settings or InventorySettings()
    runtime = Runtime(settings)
    store = InventoryStore(runtime.db)
    handler = ProjectionHandler(store, runtime.metrics)
    ledger = MongoLedger(runtime.db[LEDGER_COLLECTION])
    dead_letters = DeadLetters(runtime.publisher, settings.topics.dead_letters, ledger, service=settings.service_name)
    consumer = subscribe_projection(settings, runtime.broker, handler, dead_letters, runtime.metrics)
    runtime.readiness_checks["consumer"] = consumer.readiness

    async def prune() -> None:
        horizon = datetime.now(UTC) - timedelta(days=settings.consumer.dedupe_horizon_days)
        await store.prune_dedupe_ledger(horizon)

    app = service_app(
        runtime,
        title="Lifecycle inventory",
        description="Every deployment with its model, importance, status, health and usage.",
        routers=[read_api(store, settings), web_page(settings)],
        on_start=[store.create_indexes],
        periodic=[(3600, prune)],
    )
    app.state.store = store
    app.state.consumer = consumer
    return app
