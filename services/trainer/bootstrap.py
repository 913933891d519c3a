"""Composition root: builds one trainer instance from its settings.

A worker with the shape of a service: the runtime's /healthz, /readyz and /metrics, one batch
subscriber on the training-jobs topic (with the shared dead-letter path), its own small database.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.trainer.adapters.store import TrainerStore
from services.trainer.entrypoints.jobs import TrainingJobs
from services.trainer.settings import TrainerSettings
from shared.contract.catalog import ALL_EVENTS, build_registry
from shared.contract.events.retraining import TrainingCanceled, TrainingRequested
from shared.contract.messages import MessageRegistry
from shared.contract.topology import Stream
from shared.messaging.consumer import BatchConsumer
from shared.messaging.dead_letters import LEDGER_COLLECTION, DeadLetters, MongoLedger
from shared.service.commands import Clock, utc_now
from shared.service.runtime import Runtime, service_app


def trainer_registry() -> MessageRegistry:
    """Every event (the topic carries the answers too, which the trainer reads past); fails at start,
    naming it, if a type the trainer handles is missing."""
    return build_registry(*ALL_EVENTS, required=(TrainingRequested, TrainingCanceled), consumer="trainer")


def create_app(settings: TrainerSettings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    settings = settings or TrainerSettings()
    runtime = Runtime(settings)
    store = TrainerStore(runtime.db)
    jobs = TrainingJobs(store, runtime.publisher, settings.training, runtime.metrics, clock)
    ledger = MongoLedger(runtime.db[LEDGER_COLLECTION])
    dead_letters = DeadLetters(runtime.publisher, settings.topics.dead_letters, ledger, service=settings.service_name)
    consumer = BatchConsumer(
        service=settings.service_name,
        group_id=settings.group_id,
        registry=trainer_registry(),
        handler=jobs,
        dead_letters=dead_letters,
        metrics=runtime.metrics,
        settings=settings.consumer,
    )
    consumer.subscribe(runtime.broker, [settings.topics.for_stream(Stream.TRAINING_JOBS)])
    runtime.readiness_checks["consumer"] = consumer.readiness
    app = service_app(
        runtime,
        title="Lifecycle trainer",
        description="The reference trainer: answers training jobs with scikit-learn models.",
    )
    app.state.store = store
    app.state.consumer = consumer
    app.state.jobs = jobs
    return app
