"""Composition root: builds one replacement instance from its settings."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from services.replacement.adapters.store import ReplacementStore
from services.replacement.domain.decider import replacements
from services.replacement.domain.policy import Policy
from services.replacement.entrypoints.admission import ReplacementAdmission
from services.replacement.entrypoints.deciding import BatchDecider, approved_commands, refusal_in
from services.replacement.entrypoints.http import replacement_api
from services.replacement.entrypoints.subscribers import (
    CatalogHandler,
    replacement_registry,
    subscribe_catalog,
    subscribe_commands,
)
from services.replacement.settings import ReplacementSettings
from shared.service.admission import Refused, refused_response
from shared.service.command_api import CommandGateway, bearer_actor, command_status_router
from shared.service.commands import utc_now
from shared.service.runtime import Runtime, service_app
from shared.service.wiring import command_side


def create_app(settings: ReplacementSettings | None = None) -> FastAPI:
    settings = settings or ReplacementSettings()
    runtime = Runtime(settings)
    store = ReplacementStore(runtime.db)
    registry = replacement_registry()
    deciding = BatchDecider(store.catalog, policy_of(settings))
    side = command_side(
        runtime,
        settings,
        settings.commands,
        decider=replacements,
        store=store.deployments,
        statuses=store.statuses,
        registry=registry,
        decider_for_batch=deciding,
        follow_ups=approved_commands(registry),
        refusal_in=refusal_in,
    )
    commands = subscribe_commands(settings, runtime.broker, side.handler, side.dead_letters, runtime.metrics)
    catalog = subscribe_catalog(
        settings, runtime.broker, CatalogHandler(store.catalog, runtime.metrics), side.dead_letters, runtime.metrics
    )
    runtime.readiness_checks["consumer"] = commands.readiness
    runtime.readiness_checks["catalog"] = catalog.readiness

    async def prune() -> None:
        await store.statuses.prune(utc_now() - timedelta(days=settings.commands.status_horizon_days))
        await store.catalog.prune(utc_now() - timedelta(days=settings.consumer.dedupe_horizon_days))

    gateway = CommandGateway(runtime.publisher, store.statuses, store.deployments)
    admission = ReplacementAdmission(gateway, store.deployments, deciding, side.handler.decision)
    actor = bearer_actor(settings.api_tokens)
    app = service_app(
        runtime,
        title="Lifecycle replacement",
        description="Replace a deployment's model safely: named validation checks with reasons, a dry run, "
        "rollback, challengers and the model history. Commands answer 202 and end in events or a refusal.",
        routers=[replacement_api(admission, actor), command_status_router(store.statuses, store.deployments, actor)],
        on_start=[store.create_indexes],
        # The sweeper's first run, right at start, publishes whatever a crash left in an outbox.
        periodic=[(settings.commands.sweep_interval_s, side.sweep), (3600, prune)],
    )
    app.add_exception_handler(Refused, refused_response)
    app.state.store = store
    app.state.consumer = commands
    app.state.catalog_consumer = catalog
    app.state.sweeper = side.sweeper
    return app


def policy_of(settings: ReplacementSettings) -> Policy:
    """The domain's change-request policy, from `REPLACEMENT_CHANGE_REQUESTS__*`."""
    return Policy(
        guarded_importances=settings.change_requests.guarded,
        change_request_ttl=settings.change_requests.expire_after,
    )
