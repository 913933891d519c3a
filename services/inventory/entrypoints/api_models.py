"""Response bodies of the read API (what the OpenAPI document publishes)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from services.inventory.domain.state import (
    Access,
    Challenger,
    HealthByDimension,
    ModelHistoryEntry,
    RetrainingRun,
)
from shared.contract.events.values import DeploymentStatus, Importance, ModelPackageRef, PredictionEnvironment, Tag


class DailyCount(BaseModel):
    date: date
    count: int


class PredictionsOut(BaseModel):
    total: int
    last_at: datetime | None


class DeploymentOut(BaseModel):
    id: str
    label: str
    description: str
    importance: Importance | None
    status: DeploymentStatus | None
    model_package: ModelPackageRef | None
    prediction_environment: PredictionEnvironment | None
    owners: list[str]
    access: list[Access]
    tags: list[Tag]
    created_at: datetime | None
    created_by: str | None
    model_deployed_at: datetime | None
    model_age_days: float | None
    predictions: PredictionsOut
    predictions_last_7_days: list[DailyCount]
    health: HealthByDimension
    challengers: list[Challenger]
    latest_retraining_run: RetrainingRun | None


class DeploymentPage(BaseModel):
    count: int
    offset: int
    limit: int
    next_offset: int | None
    data: list[DeploymentOut]


class HealthTile(BaseModel):
    passing: int = 0
    warning: int = 0
    failing: int = 0
    unknown: int = 0
    unavailable: int = 0


class Summary(BaseModel):
    deployments: int
    active_deployments: int
    inactive_deployments: int
    by_status: dict[str, int]
    predictions: int
    service: HealthTile
    drift: HealthTile
    accuracy: HealthTile
    fairness: HealthTile


class ModelHistoryOut(ModelHistoryEntry):
    pass
