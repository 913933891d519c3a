"""The trainer's own records: the outcome of each run (so a redelivered request is not trained twice)
and what it trained into each package (so `same_blueprint` can refit a champion it built).

Documents are keyed by run id and by package id: every read is a point read, every write touches one
document. A run's outcome is written once (the first writer wins); then two flags follow it as the
worker registers the package and answers, so a worker that stopped in between resumes where it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.trainer.domain.estimators import Champion, Hyperparameter
from shared.storage.mongo import Document

RUNS = "training_runs"
MODELS = "trained_models"


@dataclasses.dataclass(frozen=True)
class RunRecord:
    run_id: str
    error: str | None = None
    """Why the run failed; None when it succeeded."""
    model_package_id: str | None = None
    metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)
    package: Mapping[str, Any] | None = None
    """The ModelPackageRegistered payload to publish (JSON)."""
    estimator_family: str | None = None
    hyperparameters: Mapping[str, Hyperparameter] = dataclasses.field(default_factory=dict)
    registered: bool = False
    answered: bool = False

    @property
    def succeeded(self) -> bool:
        return self.error is None


@dataclasses.dataclass(frozen=True)
class TrainedModel:
    """What the trainer keeps of a package it trained."""

    model_package_id: str
    run_id: str
    family: str
    hyperparameters: Mapping[str, Hyperparameter]
    model_file: str
    metrics: Mapping[str, float]


class TrainerStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.runs = db[RUNS]
        self.models = db[MODELS]

    async def run(self, run_id: str) -> RunRecord | None:
        document = await self.runs.find_one({"_id": run_id})
        return None if document is None else _run(document)

    async def record(self, outcome: RunRecord, model: TrainedModel | None, now: datetime) -> RunRecord:
        """Keep a run's outcome, unless one is kept already: then that one is returned, so two workers
        that trained the same run at once (after a rebalance) go on with the same outcome."""
        if model is not None:
            await _insert_once(self.models, {"_id": model.model_package_id, **_model_fields(model), "at": now})
        fields = dataclasses.asdict(outcome)
        fields["metrics"] = dict(outcome.metrics)
        fields["hyperparameters"] = dict(outcome.hyperparameters)
        fields.pop("run_id")
        if not await _insert_once(self.runs, {"_id": outcome.run_id, **fields, "at": now}):
            kept = await self.run(outcome.run_id)
            assert kept is not None, f"run {outcome.run_id} vanished"
            return kept
        return outcome

    async def mark(self, run_id: str, *, registered: bool = False, answered: bool = False) -> None:
        flags = {name: True for name, value in (("registered", registered), ("answered", answered)) if value}
        await self.runs.update_one({"_id": run_id}, {"$set": flags})

    async def champion(self, model_package_id: str) -> Champion | None:
        """The family and hyperparameters of a package this trainer trained; None for any other."""
        document = await self.models.find_one({"_id": model_package_id})
        if document is None:
            return None
        return Champion(model_package_id, document["family"], dict(document["hyperparameters"]))


async def _insert_once(collection: Any, document: Document) -> bool:
    try:
        await collection.insert_one(document)
    except DuplicateKeyError:
        return False
    return True


def _model_fields(model: TrainedModel) -> Document:
    fields = dataclasses.asdict(model)
    fields.pop("model_package_id")
    fields["hyperparameters"] = dict(model.hyperparameters)
    fields["metrics"] = dict(model.metrics)
    return fields


def _run(document: Document) -> RunRecord:
    return RunRecord(
        run_id=document["_id"],
        error=document.get("error"),
        model_package_id=document.get("model_package_id"),
        metrics=dict(document.get("metrics") or {}),
        package=document.get("package"),
        estimator_family=document.get("estimator_family"),
        hyperparameters=dict(document.get("hyperparameters") or {}),
        registered=bool(document.get("registered")),
        answered=bool(document.get("answered")),
    )
