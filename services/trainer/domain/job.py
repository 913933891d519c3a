"""A training job as the trainer sees it, whatever the shape of the request that carried it."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from services.trainer.domain.errors import CannotTrain
from services.trainer.domain.estimators import Champion
from shared.contract.events.retraining import ModelSelection


@dataclasses.dataclass(frozen=True, slots=True)
class Job:
    run_id: str
    deployment_id: str
    dataset: str
    """A path (relative ones resolve against the trainer's dataset root) or a file:// URL."""
    target_name: str
    selection: ModelSelection
    champion: Champion = dataclasses.field(default_factory=Champion)
    deadline: datetime | None = None


def check_deadline(job: Job, now: datetime) -> None:
    """A job received after its deadline is not started: whoever asked has given up on it."""
    if job.deadline is not None and now >= job.deadline:
        raise CannotTrain(f"the deadline {job.deadline.isoformat()} passed before training started")


def champion_for(job: Job, recorded: Champion | None) -> Champion:
    """What the request says of the champion, completed by what the trainer recorded when it trained
    that package (the request wins where both say something)."""
    given = job.champion
    if recorded is None:
        return given
    return Champion(
        model_package_id=given.model_package_id or recorded.model_package_id,
        family=given.family or recorded.family,
        hyperparameters=given.hyperparameters if given.hyperparameters is not None else recorded.hyperparameters,
    )
