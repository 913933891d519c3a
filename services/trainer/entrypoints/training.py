"""One training job, start to finish, without Kafka or the database: dataset in, model file out.

It runs in a worker thread (fitting is CPU-bound and must not stall the consumer's event loop) and
raises CannotTrain, with a reason for people, whenever the request cannot be trained as asked.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from services.trainer.adapters import datasets, estimators, model_files
from services.trainer.domain.dataset import infer_target, label, split_columns
from services.trainer.domain.estimators import Champion, EstimatorFamily, Hyperparameter, candidates
from services.trainer.domain.job import Job
from services.trainer.domain.metrics import Scored, best, selection_metric
from services.trainer.domain.package import describe_package
from services.trainer.domain.split import holdout_split
from services.trainer.settings import TrainingSettings
from shared.contract.events.model import ModelPackageRegistered


@dataclasses.dataclass(frozen=True)
class Trained:
    package: ModelPackageRegistered
    metrics: Mapping[str, float]
    """The chosen model's holdout metrics."""
    family: EstimatorFamily
    hyperparameters: Mapping[str, Hyperparameter]
    model_file: Path
    leaderboard: Mapping[str, Mapping[str, float]]
    """Every candidate's holdout metrics, by family, in the order they were tried."""
    selection_metric: str
    fallback: str | None
    """Why autopilot stood in for the champion's family, when it did."""
    rows: int
    seconds: float


def train(job: Job, champion: Champion, settings: TrainingSettings) -> Trained:
    started = time.monotonic()
    dataset = datasets.load(job.dataset, settings.dataset_root)
    target_column, features = split_columns(dataset.columns, job.target_name)
    values = dataset.values(target_column.name)
    target = infer_target(target_column, values, min_rows=settings.min_rows)
    chosen = candidates(job.selection, champion, settings.autopilot_families)

    rows = [i for i, value in enumerate(values) if value is not None and value != ""]
    labels = [label(values[i]) for i in rows]
    split = holdout_split(
        len(rows), settings.holdout_fraction, settings.seed, labels if target.is_classification else None
    )
    x = dataset.matrix(features, rows)
    y: np.ndarray[Any, Any] = (
        np.array(labels, dtype=object) if target.is_classification else np.array([values[i] for i in rows], float)
    )
    train_rows, holdout_rows = list(split.train), list(split.holdout)
    data = (x[train_rows], y[train_rows], x[holdout_rows], y[holdout_rows])

    fitted = [estimators.fit(spec, target, features, data, settings) for spec in chosen.specs]
    metric = selection_metric(target.type)
    scored = [Scored(f.spec, f.metrics) for f in fitted]
    winner = fitted[scored.index(best(scored, metric))]

    package = describe_package(run_id=job.run_id, target=target, features=features, family=winner.spec.family)
    path = model_files.save(
        model_files.model_path(settings.model_dir, package.model_package_id),
        winner.pipeline,
        {
            "model_package_id": package.model_package_id,
            "run_id": job.run_id,
            "deployment_id": job.deployment_id,
            "target": {"name": target.name, "type": target.type.value, "classes": list(target.classes)},
            "features": [feature.model_dump() for feature in package.features],
            "estimator": {"family": winner.spec.family.value, "hyperparameters": dict(winner.hyperparameters)},
            "metrics": dict(winner.metrics),
            "dataset": str(dataset.path),
        },
    )
    return Trained(
        package=package,
        metrics=winner.metrics,
        family=winner.spec.family,
        hyperparameters=winner.hyperparameters,
        model_file=path,
        leaderboard={f.spec.family.value: f.metrics for f in fitted},
        selection_metric=metric.value,
        fallback=chosen.fallback,
        rows=len(rows),
        seconds=round(time.monotonic() - started, 3),
    )
