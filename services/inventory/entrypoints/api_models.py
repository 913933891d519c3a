"""Response bodies of the read API (what the OpenAPI document publishes).

Each is mapped field by field from the inventory's state (`of`), never dumped from it, so what the
projection stores only to filter, sort or merge (ranks, sort keys, role arrays, stamps, revisions)
cannot reach a response by accident.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from services.inventory.adapters import query
from services.inventory.domain import state, trail
from services.inventory.domain.access import LISTED_STATUSES
from services.inventory.domain.state import HEALTH_DIMENSIONS
from shared.contract.events.retraining import RunStatus, TriggerType
from shared.contract.events.values import (
    DeploymentStatus,
    HealthStatus,
    Importance,
    ModelPackageRef,
    Platform,
    PredictionEnvironment,
    PrincipalType,
    ReplacementReason,
    Role,
    Tag,
    TargetType,
    ValidationStatus,
)


class DailyCount(BaseModel):
    date: date
    count: int


class PredictionsOut(BaseModel):
    total: int
    last_at: datetime | None


class HealthOut(BaseModel):
    status: HealthStatus
    message: str
    window_start: datetime | None
    window_end: datetime | None
    reported_at: datetime | None = Field(description="Event time of the report that set this status")
    report_id: str | None = Field(description="Event id of that report")

    @classmethod
    def of(cls, health: state.Health) -> HealthOut:
        return cls(
            status=health.status,
            message=health.message,
            window_start=health.window_start,
            window_end=health.window_end,
            reported_at=health.reported_at,
            report_id=health.report_id,
        )


class HealthByDimensionOut(BaseModel):
    service: HealthOut
    drift: HealthOut
    accuracy: HealthOut
    fairness: HealthOut

    @classmethod
    def of(cls, health: state.HealthByDimension) -> HealthByDimensionOut:
        return cls.model_validate({name: HealthOut.of(getattr(health, name)) for name in cls.model_fields})


class AccessOut(BaseModel):
    principal: str
    principal_type: PrincipalType
    role: Role


class ChallengerOut(BaseModel):
    id: str
    model_package: ModelPackageRef
    added_at: datetime


class RetrainingRunOut(BaseModel):
    run_id: str
    policy_id: str
    trigger: TriggerType
    status: RunStatus
    step: str | None
    started_at: datetime
    finished_at: datetime | None
    model_package_id: str | None
    challenger_id: str | None
    error: str | None

    @classmethod
    def of(cls, run: state.RetrainingRun) -> RetrainingRunOut:
        return cls(
            run_id=run.run_id,
            policy_id=run.policy_id,
            trigger=run.trigger,
            status=run.status,
            step=run.step,
            started_at=run.started_at,
            finished_at=run.finished_at,
            model_package_id=run.model_package_id,
            challenger_id=run.challenger_id,
            error=run.error,
        )


class DeploymentOut(BaseModel):
    id: str
    label: str
    description: str
    importance: Importance | None
    status: DeploymentStatus | None
    model_package: ModelPackageRef | None
    prediction_environment: PredictionEnvironment | None
    owners: list[str] = Field(description="Principals holding OWNER, as in `access`")
    access: list[AccessOut]
    tags: list[Tag]
    created_at: datetime | None
    created_by: str | None
    model_deployed_at: datetime | None
    model_age_days: float | None
    predictions: PredictionsOut
    predictions_last_7_days: list[DailyCount]
    health: HealthByDimensionOut
    challengers: list[ChallengerOut]
    latest_retraining_run: RetrainingRunOut | None

    @classmethod
    def of(cls, view: state.DeploymentView, now: datetime) -> DeploymentOut:
        today = now.date()
        last_7 = [today - timedelta(days=back) for back in range(6, -1, -1)]
        daily = view.predictions.daily
        age = (now - view.model_deployed_at).total_seconds() / 86_400 if view.model_deployed_at else None
        run = view.latest_retraining_run
        return cls(
            id=view.deployment_id,
            label=view.label,
            description=view.description,
            importance=view.importance,
            status=view.status,
            model_package=view.model_package,
            prediction_environment=view.prediction_environment,
            owners=[grant.principal for grant in view.access if grant.role is Role.OWNER],
            access=[
                AccessOut(principal=a.principal, principal_type=a.principal_type, role=a.role) for a in view.access
            ],
            tags=list(view.tags),
            created_at=view.created_at,
            created_by=view.created_by,
            model_deployed_at=view.model_deployed_at,
            model_age_days=round(age, 3) if age is not None else None,
            predictions=PredictionsOut(total=view.predictions.total, last_at=view.predictions.last_at),
            predictions_last_7_days=[DailyCount(date=day, count=daily.get(day.isoformat(), 0)) for day in last_7],
            health=HealthByDimensionOut.of(view.health),
            challengers=[
                ChallengerOut(id=c.id, model_package=c.model_package, added_at=c.added_at) for c in view.challengers
            ],
            latest_retraining_run=RetrainingRunOut.of(run) if run is not None else None,
        )


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


class ModelHistoryOut(BaseModel):
    action: str = Field(description="deployed or replaced")
    model_package: ModelPackageRef
    reason: ReplacementReason | None
    actor: str | None
    validation_status: ValidationStatus | None
    started_at: datetime
    ended_at: datetime | None
    event_id: str

    @classmethod
    def of(cls, entry: state.ModelHistoryEntry) -> ModelHistoryOut:
        return cls(
            action=entry.action,
            model_package=entry.model_package,
            reason=entry.reason,
            actor=entry.actor,
            validation_status=entry.validation_status,
            started_at=entry.started_at,
            ended_at=entry.ended_at,
            event_id=entry.event_id,
        )


class AuditEntryOut(BaseModel):
    """One entry of a deployment's audit trail."""

    time: datetime = Field(description="Event time")
    type: str = Field(description="Event type, e.g. DeploymentImportanceChanged")
    actor: str | None = Field(description="Who caused it, when known")
    summary: str = Field(description="What happened, for people, e.g. `importance LOW → HIGH`")
    reason: str | None = Field(description="Why, when the event says (a note, a comment, an error, a health message)")
    event_id: str
    correlation_id: str | None = Field(description="Shared by the events of one request or decision")

    @classmethod
    def of(cls, item: trail.AuditItem) -> AuditEntryOut:
        return cls(
            time=item.time,
            type=item.type,
            actor=item.actor,
            summary=item.summary,
            reason=item.reason,
            event_id=item.event_id,
            correlation_id=item.correlation_id,
        )


def list_parameters() -> list[dict[str, Any]]:
    """The list route's query parameters as OpenAPI declares them, typed as `adapters.query` parses them:
    comma lists (`style: form, explode: false`) of enum members or plain values, date-times, bounded
    integers, one sort key. (The route parses the raw query itself, to refuse unknown names and
    repeats with a 400 that says which, so FastAPI cannot derive these from its signature.)"""
    health = [s.value for s in HealthStatus if s is not HealthStatus.UNAVAILABLE]
    choices: dict[str, list[str]] = {
        "status": [s.value for s in LISTED_STATUSES],
        "importance": [i.value for i in Importance],
        **{f"{d}_health": [s.value for s in HealthStatus] if d == "accuracy" else health for d in HEALTH_DIMENSIONS},
        "platform": [p.value for p in Platform],
        "target_type": [t.value for t in TargetType],
        "role": [Role.OWNER.value, Role.USER.value],
    }
    text = {"type": "string", "pattern": query.LIST_PATTERN}
    schemas: dict[str, dict[str, Any]] = {
        "search": text,
        **{name: _list({"type": "string", "enum": values}) for name, values in choices.items()},
        **{name: _list({"type": "string", "pattern": query.VALUE_PATTERN}) for name in _PLAIN},
        **{name: {"type": "string", "format": "date-time"} for name in _MOMENTS},
        "sort": {"type": "string", "enum": [f"{way}{key}" for key in query.SORT_FIELDS for way in ("", "-")]},
        "offset": {"type": "integer", "minimum": 0, "maximum": query.MAX_OFFSET, "default": 0},
        "limit": {"type": "integer", "minimum": 1, "maximum": query.MAX_LIMIT, "default": query.DEFAULT_LIMIT},
    }
    assert set(schemas) == set(query.PARAMETER_HELP), "every parameter the parser takes is documented"
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": query.PARAMETER_HELP[name],
            **(schema if "style" in schema else {"schema": schema}),
        }
        for name, schema in schemas.items()
    ]


_PLAIN = ("owner", "created_by", "tag")
_MOMENTS = ("last_prediction_after", "last_prediction_before", "created_after", "created_before")


def _list(items: dict[str, Any]) -> dict[str, Any]:
    return {"style": "form", "explode": False, "schema": {"type": "array", "items": items, "minItems": 1}}
