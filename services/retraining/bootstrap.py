"""Composition root: builds one retraining instance from its settings.

`create_app(settings, clock=...)`: the clock is what the handler decides with, what the scheduler loop
finds work due by, and what the HTTP edge pre-checks with; tests inject one they move by hand (it is
also `app.state.clock`). Event times of what other services publish (the trainer's answers, say) are
their own clocks'.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime, timedelta

from fastapi import FastAPI

from services.retraining.adapters.reports import Reports, health_reports
from services.retraining.adapters.store import RetrainingStore
from services.retraining.domain.decider import decider_for
from services.retraining.entrypoints.admission import RetrainingAdmission
from services.retraining.entrypoints.http import retraining_api
from services.retraining.entrypoints.scheduler import NudgingHandler, Scheduler
from services.retraining.entrypoints.subscribers import retraining_registry, subscribe_commands
from services.retraining.settings import RetrainingSettings
from shared.service.admission import Refused, refused_response
from shared.service.command_api import CommandGateway, bearer_actor, command_status_router
from shared.service.commands import Clock, utc_now
from shared.service.runtime import Runtime, service_app
from shared.service.wiring import command_side


def create_app(settings: RetrainingSettings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    settings = settings or RetrainingSettings()
    runtime = Runtime(settings)
    rules = settings.rules.rules()
    store = RetrainingStore(runtime.db, rules, clock)
    registry = retraining_registry()
    side = command_side(
        runtime,
        settings,
        settings.commands,
        decider=decider_for(rules),
        store=store.deployments,
        statuses=store.statuses,
        registry=registry,
        clock=clock,
    )
    scheduler = Scheduler(
        store.deployments,
        runtime.publisher,
        rules,
        service=settings.service_name,
        metrics=runtime.metrics.registry,
        resend_after=timedelta(seconds=settings.scheduler.resend_after_s),
        full_sweep_every=timedelta(seconds=settings.scheduler.full_sweep_interval_s),
        clock=clock,
    )
    consumer = subscribe_commands(
        settings, runtime.broker, NudgingHandler(side.handler, scheduler), side.dead_letters, runtime.metrics
    )
    runtime.readiness_checks["consumer"] = consumer.readiness
    runtime.readiness_checks["scheduler"] = scheduler.readiness

    async def prune() -> None:
        await store.prune_statuses(clock() - timedelta(days=settings.commands.status_horizon_days))

    async def schedule() -> None:
        await scheduler.tick()

    def read_reports(deployment_id: str, before: datetime) -> Awaitable[Reports]:
        topic = settings.topics.monitoring_events
        return health_reports(settings.kafka.bootstrap_servers, topic, registry, deployment_id, before=before)

    gateway = CommandGateway(runtime.publisher, store.statuses, store.deployments, clock=clock)
    admission = RetrainingAdmission(gateway, store.deployments, side.handler.decision, clock=clock)
    actor = bearer_actor(settings.api_tokens)
    app = service_app(
        runtime,
        title="Lifecycle retraining",
        description="Retraining settings and up to five policies per deployment (schedule, drift or accuracy "
        "decline, by hand), their runs through a trainer to a new model, challenger or package, the run history, "
        "and a backtest of a draft policy over the deployment's recorded health. Commands answer 202 and end in "
        "events or a refusal with a reason.",
        routers=[
            retraining_api(admission, actor, read_reports, rules.max_policies),
            command_status_router(store.statuses, store.deployments, actor),
        ],
        on_start=[store.create_indexes],
        # The sweeper's first run, right at start, publishes whatever a crash left in an outbox.
        periodic=[
            (settings.commands.sweep_interval_s, side.sweep),
            (settings.scheduler.interval_s, schedule),
            (3600, prune),
        ],
    )
    app.add_exception_handler(Refused, refused_response)
    app.state.store = store
    app.state.consumer = consumer
    app.state.sweeper = side.sweeper
    app.state.scheduler = scheduler
    app.state.clock = clock
    return app
