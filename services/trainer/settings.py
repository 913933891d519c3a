"""Trainer settings: `LIFECYCLE_*` shared with every service, `TRAINER_*` its own (they win).

`TRAINER_TRAINING__MODEL_DIR=/srv/models` moves the model files; `TRAINER_TRAINING__AUTOPILOT_FAMILIES=
'["linear"]'` narrows what autopilot tries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from services.trainer.domain.estimators import AUTOPILOT, EstimatorFamily
from shared.service.settings import Part, ServiceSettings


class TrainingSettings(Part):
    model_dir: Path = Field(default=Path(".local/trainer/models"), description="Where model files are written")
    dataset_root: Path = Field(default=Path("."), description="What a relative dataset path is relative to")
    holdout_fraction: float = Field(default=0.2, gt=0, lt=1, description="Share of rows kept aside for scoring")
    seed: int = Field(default=0, description="Seeds the split and the estimators: a re-run fits the same model")
    tree_count: int = Field(default=100, ge=1, description="Trees of a forest, boosting iterations")
    max_categories: int = Field(default=20, ge=2, description="One-hot columns per categorical feature, at most")
    threads: int = Field(default=1, ge=1, description="Native threads (OpenMP, BLAS, forest jobs) a fit may use")
    min_rows: int = Field(default=20, ge=4, description="Rows with a target value needed to train")
    autopilot_families: tuple[EstimatorFamily, ...] = AUTOPILOT


class TrainerSettings(ServiceSettings):
    service_env_prefix: ClassVar[str] = "TRAINER_"
    service_defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "mongo": {"database": "lifecycle_trainer"},
        "http": {"port": 8005},
        # One job per batch: a job takes seconds to minutes, and the consumer must poll again in time.
        "consumer": {"batch_max_records": 1},
    }

    service_name: str = "trainer"
    training: TrainingSettings = TrainingSettings()
