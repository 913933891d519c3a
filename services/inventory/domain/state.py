"""The inventory's state of one deployment, as stored in its projection.

A document has two layers. `facts` is what the fold needs to give the same state whatever order the
events arrive in: the winning creation, the latest write of each setting with its stamp, grants and
challengers with their tombstones, replacements, statistics clears, the retraining runs that may still
be shown (see services.inventory.domain.evolve). Every other field is derived from the facts by
`materialize`, and stored so that the API can return it and the database can filter and sort on it
(`status`, `label_sort`, `importance_rank`, `owners`, `health.<dimension>.rank`, ...). Health,
predictions and the audit trail are their own facts: each carries what it needs to fold (report
stamps, counts by bucket, entries by stamp; see services.inventory.domain.trail).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.inventory.domain.predictions import Predictions as Predictions  # re-exported: part of the state
from services.inventory.domain.predictions import StatisticsClear
from services.inventory.domain.trail import Trail
from shared.contract.events.monitoring import HEALTH_DIMENSIONS as HEALTH_DIMENSIONS  # defined by the contract
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
from shared.domain.fold import Stamp, Stamped

# Ascending sort puts failing first, as platform teams triage.
HEALTH_RANK = {
    HealthStatus.FAILING: 0,
    HealthStatus.WARNING: 1,
    HealthStatus.PASSING: 2,
    HealthStatus.UNKNOWN: 3,
    HealthStatus.UNAVAILABLE: 4,
}
IMPORTANCE_RANK = {Importance.LOW: 0, Importance.MODERATE: 1, Importance.HIGH: 2, Importance.CRITICAL: 3}


class Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Health(Part):
    """The latest report of one dimension; (reported_at, report_id) is its stamp."""

    status: HealthStatus = HealthStatus.UNKNOWN
    rank: int = HEALTH_RANK[HealthStatus.UNKNOWN]
    message: str = ""
    window_start: datetime | None = None
    window_end: datetime | None = None
    reported_at: datetime | None = None
    report_id: str | None = None

    @property
    def stamp(self) -> Stamp | None:
        return (self.reported_at, self.report_id or "") if self.reported_at else None


class HealthByDimension(Part):
    service: Health = Field(default_factory=Health)
    drift: Health = Field(default_factory=Health)
    accuracy: Health = Field(default_factory=Health)
    fairness: Health = Field(default_factory=Health)


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


# ---------------------------------------------------------------- facts


class Creation(Part):
    """The DeploymentCreated that stands: the earliest by stamp, should an id be created twice."""

    at: datetime
    event_id: str
    actor: str | None
    label: str
    description: str
    importance: Importance
    status: DeploymentStatus
    model_package: ModelPackageRef
    prediction_environment: PredictionEnvironment
    created_by: str
    owners: tuple[str, ...]
    tags: tuple[Tag, ...]
    created_at: datetime

    @property
    def stamp(self) -> Stamp:
        return (self.at, self.event_id)


class Settings(Part):
    """The latest write of each field by a later event, with its stamp. Kept even while the creation
    is newer and shows instead: an earlier creation of the same id arriving later would let it show."""

    label: Stamped[str] | None = None
    description: Stamped[str] | None = None
    tags: Stamped[tuple[Tag, ...]] | None = None
    importance: Stamped[Importance] | None = None
    status: Stamped[DeploymentStatus] | None = None


class Grant(Part):
    """The latest share or revocation (role None: a tombstone) of one principal."""

    principal: str
    principal_type: PrincipalType = PrincipalType.USER
    role: Role | None
    at: datetime
    event_id: str

    @property
    def stamp(self) -> Stamp:
        return (self.at, self.event_id)


class ChallengerFact(Part):
    """The latest addition or removal (model_package None: a tombstone) of one challenger id."""

    id: str
    model_package: ModelPackageRef | None
    at: datetime
    event_id: str

    @property
    def stamp(self) -> Stamp:
        return (self.at, self.event_id)


class Replacement(Part):
    at: datetime
    event_id: str
    actor: str | None
    model_package: ModelPackageRef
    reason: ReplacementReason
    validation_status: ValidationStatus | None

    @property
    def stamp(self) -> Stamp:
        return (self.at, self.event_id)


class RunStart(Part):
    run_id: str
    policy_id: str
    trigger: TriggerType
    started_at: datetime
    at: datetime
    event_id: str

    @property
    def key(self) -> tuple[datetime, str, datetime, str]:
        """Which run is the latest: the one started last (run id, then stamp, break ties)."""
        return (self.started_at, self.run_id, self.at, self.event_id)


class RunUpdate(Part):
    """The latest step (kind "step") or outcome (kind "outcome") reported for one run."""

    run_id: str
    kind: str
    at: datetime
    event_id: str
    step: str | None = None
    status: RunStatus | None = None
    finished_at: datetime | None = None
    model_package_id: str | None = None
    challenger_id: str | None = None
    error: str | None = None

    @property
    def stamp(self) -> Stamp:
        return (self.at, self.event_id)


class Retraining(Part):
    """The run started last and the updates that may still be shown: those stamped at or after its
    start (an update stamped before the latest run started belongs to an older run)."""

    latest: RunStart | None = None
    updates: tuple[RunUpdate, ...] = ()


class Facts(Part):
    erased: bool = False
    creation: Creation | None = None
    settings: Settings = Field(default_factory=Settings)
    deleted: bool = False
    grants: tuple[Grant, ...] = ()
    replacements: tuple[Replacement, ...] = ()
    challengers: tuple[ChallengerFact, ...] = ()
    clears: tuple[StatisticsClear, ...] = ()
    retraining: Retraining = Field(default_factory=Retraining)

    @property
    def model_history(self) -> tuple[ModelHistoryEntry, ...]:
        """The deployment and the replacements ordered by stamp; each ends when the next starts."""
        entries: list[tuple[Stamp, dict[str, Any]]] = []
        if creation := self.creation:
            deployed = {
                "action": "deployed",
                "model_package": creation.model_package,
                "actor": creation.actor or creation.created_by,
                "started_at": creation.created_at,
                "event_id": creation.event_id,
            }
            entries.append((creation.stamp, deployed))
        for r in self.replacements:
            replaced = {
                "action": "replaced",
                "model_package": r.model_package,
                "reason": r.reason,
                "actor": r.actor,
                "validation_status": r.validation_status,
                "started_at": r.at,
                "event_id": r.event_id,
            }
            entries.append((r.stamp, replaced))
        entries.sort(key=lambda item: item[0])
        ends = [fields["started_at"] for _, fields in entries[1:]]
        return tuple(
            ModelHistoryEntry(**fields, ended_at=ends[index] if index < len(ends) else None)
            for index, (_, fields) in enumerate(entries)
        )


class DeploymentView(Part):
    """One deployment: derived fields (see `materialize`), `health`, `predictions`, `trail`, and `facts`."""

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
    access: tuple[Access, ...] = ()
    owners: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ()
    tags: tuple[Tag, ...] = ()
    tag_terms: tuple[str, ...] = ()
    created_at: datetime | None = None
    created_by: str | None = None
    model_deployed_at: datetime | None = None
    predictions: Predictions = Field(default_factory=Predictions)
    health: HealthByDimension = Field(default_factory=HealthByDimension)
    challengers: tuple[Challenger, ...] = ()
    latest_retraining_run: RetrainingRun | None = None
    trail: Trail = Field(default_factory=Trail)
    facts: Facts = Field(default_factory=Facts)

    @property
    def model_history(self) -> tuple[ModelHistoryEntry, ...]:
        """Derived on read, not stored: it would repeat the facts' replacements."""
        return self.facts.model_history
