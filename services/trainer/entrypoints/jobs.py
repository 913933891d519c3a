"""The training-jobs subscriber: each requested run trained once, registered, then answered.

Per run id the trainer keeps one outcome (adapters.store), then publishes in order
`ModelPackageRegistered` (registry stream) and `TrainingSucceeded`, or only `TrainingFailed`, noting
each step as done. A redelivered request resumes at the first step not done and does nothing once the
run is answered; event ids derive from the run id, so a step repeated after a crash (published, not
yet noted) is dropped by consumers as a duplicate. Nothing of a run is trained twice: the outcome is
kept before anything is published.

A `TrainingCanceled` (the run was canceled or timed out) keeps a canceled outcome for a run not
trained yet, so its request, if read later (a redelivery, or later in the same batch), is skipped
and not answered: whoever asked has stopped listening. Likewise a request read after its deadline is
answered as failed without training.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from prometheus_client import Counter, Histogram

from services.trainer.adapters.store import RunRecord, TrainedModel, TrainerStore
from services.trainer.domain.errors import CannotTrain
from services.trainer.domain.estimators import Champion
from services.trainer.domain.job import Job, champion_for, check_deadline
from services.trainer.entrypoints.training import Trained, train
from services.trainer.settings import TrainingSettings
from shared.contract.envelope import Envelope, derived_id
from shared.contract.events.model import ModelPackageRegistered
from shared.contract.events.retraining import (
    ERROR_MAX,
    TrainingCanceled,
    TrainingFailed,
    TrainingRequested,
    TrainingSucceeded,
)
from shared.contract.messages import Message
from shared.messaging.consumer import Inbound
from shared.messaging.isolation import describe
from shared.messaging.publisher import KafkaPublisher
from shared.service.commands import Clock, utc_now
from shared.service.logging import get_logger
from shared.service.metrics import ServiceMetrics

log = get_logger(__name__)


def job_of(request: TrainingRequested) -> Job:
    return Job(
        run_id=request.run_id,
        deployment_id=request.deployment_id,
        dataset=request.dataset_path,
        target_name=request.target_name,
        selection=request.model_selection,
        champion=Champion(
            model_package_id=request.champion_model_package_id,
            family=request.estimator_family,
            hyperparameters=request.hyperparameters or None,  # none given and none known read the same
        ),
        deadline=request.deadline,
    )


class TrainingJobs:
    def __init__(
        self,
        store: TrainerStore,
        publisher: KafkaPublisher,
        settings: TrainingSettings,
        metrics: ServiceMetrics,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.outcomes = Counter(
            "lifecycle_training_jobs", "Training jobs by outcome", ["outcome"], registry=metrics.registry
        )
        self.seconds = Histogram(
            "lifecycle_training_seconds",
            "Time to train one job (load, fit every candidate, write the model file)",
            registry=metrics.registry,
            buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
        )

    async def __call__(self, batch: Sequence[Inbound]) -> None:
        for item in batch:
            if isinstance(item.message, TrainingCanceled):
                await self.canceled(item.message)
        for item in batch:
            if isinstance(item.message, TrainingRequested):
                await self.requested(item.message, item.envelope)

    async def canceled(self, cancel: TrainingCanceled) -> None:
        reason = f"canceled before training: {cancel.reason}" if cancel.reason else "canceled before training"
        kept = await self.store.record(RunRecord(cancel.run_id, error=reason, answered=True), None, self.clock())
        if kept.error == reason:
            log.info("training job canceled before it started", run_id=cancel.run_id)

    async def requested(self, request: TrainingRequested, envelope: Envelope) -> None:
        run_id = request.run_id
        record = await self.store.run(run_id)
        if record is not None and record.answered:
            self.metrics.events_skipped.inc()
            log.info("training job already answered; request skipped", run_id=run_id, event_id=envelope.id)
            return
        if record is None:
            record = await self._train(job_of(request))
        if record.succeeded and not record.registered:
            assert record.package is not None, f"run {run_id} succeeded without a package"
            await self._publish(ModelPackageRegistered.model_validate(record.package), envelope, run_id)
            await self.store.mark(run_id, registered=True)
        await self._publish(_answer(request, record), envelope, run_id)
        await self.store.mark(run_id, answered=True)

    async def _train(self, job: Job) -> RunRecord:
        """Train the job in a worker thread and keep its outcome; a job that cannot be trained, or
        whose training raised, has a failed outcome with the reason."""
        recorded = await self.store.champion(job.champion.model_package_id) if job.champion.model_package_id else None
        now = self.clock()
        started = time.monotonic()
        model: TrainedModel | None = None
        try:
            check_deadline(job, now)
            trained = await asyncio.to_thread(train, job, champion_for(job, recorded), self.settings)
        except CannotTrain as exc:
            outcome = RunRecord(job.run_id, error=str(exc))
            log.warning("cannot train", run_id=job.run_id, deployment_id=job.deployment_id, error=str(exc))
        except Exception as exc:  # a fit that raised on this data: answer it, retrying gives the same
            outcome = RunRecord(job.run_id, error=f"training failed: {describe(exc)}")
            log.exception("training job failed", run_id=job.run_id, deployment_id=job.deployment_id)
        else:
            outcome, model = _succeeded(job, trained)
        self.seconds.observe(time.monotonic() - started)
        self.outcomes.labels(outcome="succeeded" if outcome.succeeded else "failed").inc()
        return await self.store.record(outcome, model, now)

    async def _publish(self, message: Message, cause: Envelope, run_id: str) -> None:
        await self.publisher.publish(
            message,
            event_id=derived_id(run_id, message.type_name),
            correlation_id=cause.correlationid,
            causation_id=cause.id,
        )


def _succeeded(job: Job, trained: Trained) -> tuple[RunRecord, TrainedModel]:
    log.info(
        "trained",
        run_id=job.run_id,
        deployment_id=job.deployment_id,
        model_package_id=trained.package.model_package_id,
        family=trained.family.value,
        metrics=dict(trained.metrics),
        leaderboard={family: dict(metrics) for family, metrics in trained.leaderboard.items()},
        selection_metric=trained.selection_metric,
        fallback=trained.fallback,
        rows=trained.rows,
        seconds=trained.seconds,
        model_file=str(trained.model_file),
    )
    package_id = trained.package.model_package_id
    outcome = RunRecord(
        job.run_id,
        model_package_id=package_id,
        metrics=dict(trained.metrics),
        package=trained.package.model_dump(mode="json"),
        estimator_family=trained.family.value,
        hyperparameters=dict(trained.hyperparameters),
    )
    model = TrainedModel(
        model_package_id=package_id,
        run_id=job.run_id,
        family=trained.family.value,
        hyperparameters=dict(trained.hyperparameters),
        model_file=str(trained.model_file),
        metrics=dict(trained.metrics),
    )
    return outcome, model


def _answer(request: TrainingRequested, record: RunRecord) -> TrainingSucceeded | TrainingFailed:
    if record.succeeded:
        assert record.model_package_id is not None
        return TrainingSucceeded(
            deployment_id=request.deployment_id,
            run_id=request.run_id,
            model_package_id=record.model_package_id,
            metrics=dict(record.metrics),
            estimator_family=record.estimator_family,
            hyperparameters=dict(record.hyperparameters),
        )
    error = record.error or "training failed"
    return TrainingFailed(deployment_id=request.deployment_id, run_id=request.run_id, error=error[:ERROR_MAX])
