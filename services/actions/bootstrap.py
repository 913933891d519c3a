"""Composition root: builds one actions instance from its settings."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from services.actions.adapters.store import ActionsStore
from services.actions.domain.decider import decider_for
from services.actions.domain.policy import Policy
from services.actions.entrypoints.admission import actions_admission
from services.actions.entrypoints.change_requests import change_request_api
from services.actions.entrypoints.expiry import ChangeRequestExpiry
from services.actions.entrypoints.http import command_api
from services.actions.entrypoints.subscribers import actions_registry, subscribe_commands
from services.actions.settings import ActionsSettings
from shared.service.admission import Refused, refused_response
from shared.service.command_api import CommandGateway, bearer_actor, command_status_router
from shared.service.commands import utc_now
from shared.service.runtime import Runtime, service_app
from shared.service.wiring import command_side


def create_app(settings: ActionsSettings | None = None) -> FastAPI:
    settings = settings or ActionsSettings()
    runtime = Runtime(settings)
    store = ActionsStore(runtime.db)
    side = command_side(
        runtime,
        settings,
        settings.commands,
        decider=decider_for(policy_of(settings)),
        store=store.deployments,
        statuses=store.statuses,
        registry=actions_registry(),
    )
    consumer = subscribe_commands(settings, runtime.broker, side.handler, side.dead_letters, runtime.metrics)
    runtime.readiness_checks["consumer"] = consumer.readiness

    async def prune() -> None:
        await store.prune_statuses(utc_now() - timedelta(days=settings.commands.status_horizon_days))

    gateway = CommandGateway(runtime.publisher, store.statuses, store.deployments)
    admission = actions_admission(gateway, store.deployments, side.handler.decision)
    expiry = ChangeRequestExpiry(store.deployments, gateway, service=settings.service_name)

    async def expire_change_requests() -> None:
        await expiry.sweep()

    actor = bearer_actor(settings.api_tokens)
    app = service_app(
        runtime,
        title="Lifecycle actions",
        description="Commands on deployments; each answers 202 and ends in events or a rejection with a reason.",
        routers=[
            command_api(admission, actor),
            change_request_api(admission, actor),
            command_status_router(store.statuses, store.deployments, actor),
        ],
        on_start=[store.create_indexes],
        # The sweeper's first run, right at start, publishes whatever a crash left in an outbox.
        periodic=[
            (settings.commands.sweep_interval_s, side.sweep),
            (settings.change_requests.sweep_interval_s, expire_change_requests),
            (3600, prune),
        ],
    )
    app.add_exception_handler(Refused, refused_response)
    app.state.store = store
    app.state.consumer = consumer
    app.state.sweeper = side.sweeper
    app.state.expiry = expiry
    return app


def policy_of(settings: ActionsSettings) -> Policy:
    """The domain's change-request policy, from `ACTIONS_CHANGE_REQUESTS__*`."""
    return Policy(
        guarded_importances=settings.change_requests.guarded,
        change_request_ttl=settings.change_requests.expire_after,
    )
