"""The inventory's state of one deployment, as stored in its projection."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.contract.events.retraining import RunStatus, TriggerType
from shared.contract.events.values import (
    DeploymentStatus,
    HealthStatus,
    Importance,
    ModelPackageRef,
    PredictionEnvironment,
    PrincipalType,
    ReplacementReason,
    Role,
    Tag,
    ValidationStatus,
)

# Ascending sort puts failing first, as platform teams triage.
HEALTH_RANK = {
    HealthStatus.FAILING: 0,
    HealthStatus.WARNING: 1,
    HealthStatus.PASSING: 2,
    HealthStatus.UNKNOWN: 3,
    HealthStatus.UNAVAILABLE: 4,
}
IMPORTANCE_RANK = {Importance.LOW: 0, Importance.MODERATE: 1, Importance.HIGH: 2, Importance.CRITICAL: 3}
HEALTH_DIMENSIONS = ("service", "drift", "accuracy", "fairness")


class Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Health(Part):
    status: HealthStatus = HealthStatus.UNKNOWN
    rank: int = HEALTH_RANK[HealthStatus.UNKNOWN]
    message: str = ""
    window_start: datetime | None = None
    window_end: datetime | None = None
    reported_at: datetime | None = None
    report_id: str | None = None


class HealthByDimension(Part):
    service: Health = Field(default_factory=Health)
    drift: Health = Field(default_factory=Health)
    accuracy: Health = Field(default_factory=Health)
    fairness: Health = Field(default_factory=Health)


class Predictions(Part):
    total: int = 0
    daily: dict[str, int] = Field(default_factory=dict, description="ISO date -> predictions that day (UTC)")
    last_at: datetime | None = None


class Access(Part):
    principal: str
    principal_type: PrincipalType = PrincipalType.USER
    role: Role


class ModelHistoryEntry(Part):
    action: str = Field(description="deployed or replaced")
    model_package: ModelPackageRef
    reason: ReplacementReason | None = None
    actor: str | None = None
    validation_status: ValidationStatus | None = None
    started_at: datetime
    ended_at: datetime | None = None
    event_id: str


class Challenger(Part):
    id: str
    model_package: ModelPackageRef
    added_at: datetime


class RetrainingRun(Part):
    run_id: str
    policy_id: str
    trigger: TriggerType
    status: RunStatus = RunStatus.RUNNING
    step: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
    model_package_id: str | None = None
    challenger_id: str | None = None
    error: str | None = None


class DeploymentView(Part):
    """One deployment. Fields named *_sort, *_rank, owners/users/consumers and tag_terms are derived
    from the others (see `reindex`) and stored only so the database can filter and sort on them."""

    deployment_id: str
    created: bool = False
    label: str = ""
    label_sort: str = ""
    description: str = ""
    importance: Importance | None = None
    importance_rank: int = -1
    status: DeploymentStatus | None = None
    model_package: ModelPackageRef | None = None
    prediction_environment: PredictionEnvironment | None = None
    access: list[Access] = Field(default_factory=list)
    owners: list[str] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)
    consumers: list[str] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)
    tag_terms: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    created_by: str | None = None
    model_deployed_at: datetime | None = None
    predictions: Predictions = Field(default_factory=Predictions)
    health: HealthByDimension = Field(default_factory=HealthByDimension)
    challengers: list[Challenger] = Field(default_factory=list)
    latest_retraining_run: RetrainingRun | None = None
    model_history: list[ModelHistoryEntry] = Field(default_factory=list)


def reindex(view: DeploymentView) -> DeploymentView:
    """Recompute the derived, query-only fields from the authoritative ones."""
    by_role = {role: [a.principal for a in view.access if a.role is role] for role in Role}
    return view.model_copy(
        update={
            "label_sort": view.label.casefold(),
            "importance_rank": IMPORTANCE_RANK[view.importance] if view.importance else -1,
            "owners": by_role[Role.OWNER],
            "users": by_role[Role.USER],
            "consumers": by_role[Role.CONSUMER],
            "tag_terms": sorted({t.name for t in view.tags} | {f"{t.name}:{t.value}" for t in view.tags}),
        }
    )
