"""What the retraining API reads and writes: request bodies (unknown fields refused, every string bounded
and free of NUL, which PostgreSQL under FerretDB cannot store), the settings, policies, runs and backtests
it shows, and the error bodies. The commands themselves are the contract's
(shared.contract.commands.retraining)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from services.retraining.domain.backtest import Backtest
from services.retraining.domain.state import Policy, RetrainingState, Run
from services.retraining.domain.triggers import next_scheduled
from services.retraining.entrypoints.api_values import Interval, TriggerOut
from shared.contract.commands.retraining import trigger_problem
from shared.contract.events.retraining import (
    DESCRIPTION_MAX,
    ID_MAX,
    NAME_MAX,
    PATH_MAX,
    Cause,
    DayOfMonth,
    DayOfWeek,
    Hour,
    Minute,
    ModelAction,
    ModelingStrategy,
    ModelSelection,
    Month,
    RunStatus,
    Trigger,
    TriggerType,
)
from shared.contract.events.values import HealthStatus
from shared.service.command_api import Accepted
from shared.service.problems import errors as shared_errors

DEPLOYMENT_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
RESOURCE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
"""Policy and run ids (derived uuids): no `:`, so `/retraining-runs/{id}:cancel` is unambiguous."""
NO_NUL = r"^[^\x00]*$"
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
"""The instants a backtest range may span."""

Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX, pattern=NO_NUL)]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX, pattern=NO_NUL)]
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value: object) -> object:
    """Only an RFC 3339 date-time with its offset (pydantic alone would take a number as seconds)."""
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.match(value)):
        return value
    raise ValueError("must be an RFC 3339 date-time with a UTC offset, e.g. 2026-01-01T00:00:00Z")


Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339),
    Field(json_schema_extra={"format": "date-time", "pattern": _RFC3339.pattern}),
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduleIn(Body):
    """Cron fields in UTC; an empty list means every value. When both day of month and day of week are
    given, a day matches if either does (cron's rule)."""

    minute: list[Minute] = Field(default_factory=list, max_length=60)
    hour: list[Hour] = Field(default_factory=list, max_length=24)
    day_of_month: list[DayOfMonth] = Field(default_factory=list, max_length=31)
    month: list[Month] = Field(default_factory=list, max_length=12)
    day_of_week: list[DayOfWeek] = Field(default_factory=list, max_length=7)


class _TriggerFields(Body):
    """The three switches for the decline types; the minimum interval throttles automatic runs by event
    time (a report's, or a schedule's due time)."""

    status_declines_to_warning: bool = True
    status_declines_to_failing: bool = True
    status_still_in_decline: bool = False
    min_interval_between_runs: Interval = Field(
        default=None,
        description="ISO 8601 duration (e.g. PT6H) or seconds; longer than ten years counts as ten years; "
        "null or zero: no minimum",
    )

    @model_validator(mode="after")
    def _usable(self) -> _TriggerFields:
        # The union below already keeps a schedule to its type; this is the contract's own rule, kept.
        if (problem := trigger_problem(self.trigger())) is not None:
            raise ValueError(problem)
        return self

    def trigger(self) -> Trigger:
        return Trigger.model_validate(self.model_dump())


class ScheduleTriggerIn(_TriggerFields):
    """Runs when the schedule is due (cron fields, UTC)."""

    type: Literal[TriggerType.SCHEDULE]
    schedule: ScheduleIn


class EventTriggerIn(_TriggerFields):
    """Runs on a drift or accuracy decline, or only by hand (`manual`): no schedule."""

    type: Literal[TriggerType.DATA_DRIFT_DECLINE, TriggerType.ACCURACY_DECLINE, TriggerType.MANUAL]
    schedule: None = None


TriggerIn = Annotated[ScheduleTriggerIn | EventTriggerIn, Field(discriminator="type")]
"""A trigger: `schedule` for (and only for) type schedule, so the document says which bodies are valid."""


class SettingsBody(Body):
    retraining_user: str = Field(
        min_length=1, max_length=256, pattern=PRINTABLE, description="Runs not started by hand act as this OWNER"
    )
    dataset_id: str = Field(
        min_length=1, max_length=PATH_MAX, pattern=NO_NUL, description="A CSV or Parquet path the trainer reads"
    )
    prediction_environment_id: str | None = Field(
        default=None, min_length=1, max_length=ID_MAX, pattern=PRINTABLE, description="None: the deployment's own"
    )


class PolicyBody(Body):
    name: Name
    description: Description = ""
    trigger: TriggerIn
    model_selection: ModelSelection = ModelSelection.AUTOPILOT_RECOMMENDED
    model_action: ModelAction = ModelAction.CREATE_CHALLENGER
    modeling_strategy: ModelingStrategy = ModelingStrategy.SAME_AS_CHAMPION


class PolicyChangeBody(Body):
    """The fields to change (at least one); the others stay (omitted, never null)."""

    # `minProperties` says in the document that one must be given; `SkipJsonSchema[None]` keeps null out
    # of it (None only means "not given"), and `_no_nulls` refuses one sent.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    name: Name | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    trigger: TriggerIn | SkipJsonSchema[None] = None
    model_selection: ModelSelection | SkipJsonSchema[None] = None
    model_action: ModelAction | SkipJsonSchema[None] = None
    modeling_strategy: ModelingStrategy | SkipJsonSchema[None] = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict) and (nulls := sorted(str(k) for k, v in data.items() if v is None)):
            raise ValueError(f"omit a field to keep it; null is not a value ({', '.join(nulls)})")
        return data


class BacktestBody(Body):
    trigger: TriggerIn = Field(description="The draft policy's trigger")
    start: Instant = Field(description="From (the policy as if created then); read from 2000-01-01 at the earliest")
    end: Instant = Field(
        description="Until (exclusive); read until 2200-01-01 at the latest; a range that ends at or before its "
        "start is empty (nothing fires)"
    )

    def window(self) -> tuple[datetime, datetime]:
        """The range backtested: the one asked, within 2000-01-01 .. 2200-01-01 (no report is older,
        and schedules are not stepped through centuries)."""
        return max(self.start, EARLIEST), min(self.end, LATEST)


class RetrainingAccepted(Accepted):
    policy_id: str | None = Field(default=None, description="The policy the command creates or changes")
    run_id: str | None = Field(default=None, description="The run the command starts or cancels")


class SettingsOut(BaseModel):
    deployment_id: str
    configured: bool
    retraining_user: str | None = None
    dataset_id: str | None = None
    prediction_environment_id: str | None = None

    @classmethod
    def of(cls, state: RetrainingState) -> SettingsOut:
        settings = state.settings
        if settings is None:
            return cls(deployment_id=state.deployment_id, configured=False)
        return cls(deployment_id=state.deployment_id, configured=True, **settings.model_dump())


class RunOut(BaseModel):
    id: str
    policy_id: str
    status: RunStatus
    step: str
    trigger: TriggerType
    cause: Cause
    triggered_at: datetime = Field(description="The firing report's event time, the schedule's due time, or now")
    cause_event_id: str | None = None
    cause_status: HealthStatus | None = None
    started_at: datetime
    started_by: str | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    model_selection: ModelSelection
    model_action: ModelAction
    model_package_id: str | None = Field(default=None, description="The package the run trained")
    challenger_id: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    error: str | None = None
    error_code: str | None = None
    canceled_by: str | None = None

    @classmethod
    def of(cls, run: Run) -> RunOut:
        duration = run.duration
        shown = run.model_dump(include=set(cls.model_fields) - {"started_by", "duration_s"})
        return cls(
            **shown,
            started_by=run.started_by.user if run.started_by else None,
            duration_s=duration.total_seconds() if duration is not None else None,
        )


class PolicyOut(BaseModel):
    id: str
    name: str
    description: str
    trigger: TriggerOut
    model_selection: ModelSelection
    model_action: ModelAction
    modeling_strategy: str
    created_at: datetime
    updated_at: datetime
    last_fired_at: datetime | None = Field(default=None, description="Event time of its last automatic run")
    next_scheduled_at: datetime | None = Field(default=None, description="A schedule's next due time")
    latest_run: RunOut | None = None

    @classmethod
    def of(cls, policy: Policy, state: RetrainingState) -> PolicyOut:
        latest = next((r for r in reversed(state.runs) if r.policy_id == policy.id), None)
        return cls(
            **policy.model_dump(exclude={"clock", "trigger"}),
            trigger=TriggerOut.model_validate(policy.trigger.model_dump()),
            last_fired_at=policy.clock.last_fired_at,
            next_scheduled_at=next_scheduled(policy.trigger, policy.clock),
            latest_run=RunOut.of(latest) if latest is not None else None,
        )


class PoliciesOut(BaseModel):
    deployment_id: str
    limit: int = Field(description="Policies a deployment may have")
    policies: list[PolicyOut]


class RunsOut(BaseModel):
    deployment_id: str
    runs: list[RunOut] = Field(description="Newest first: every run in progress and the latest finished ones")


class FiringOut(BaseModel):
    at: datetime = Field(description="The report's event time, or the schedule's due time")
    cause: Cause
    report_event_id: str | None = None
    status: HealthStatus | None = None


class BacktestOut(BaseModel):
    deployment_id: str
    start: datetime
    end: datetime
    runs: int = Field(description="Runs the policy would have started (one per fire)")
    truncated: bool = Field(description="More fires than listed: the list stops at the first ones")
    fires: list[FiringOut]
    reports: int = Field(description="The deployment's drift and accuracy reports read (up to `end`)")

    @classmethod
    def of(cls, deployment_id: str, backtest: Backtest, reports: int) -> BacktestOut:
        return cls(
            deployment_id=deployment_id,
            start=backtest.start,
            end=backtest.end,
            runs=backtest.runs,
            truncated=backtest.truncated,
            fires=[FiringOut(at=f.at, cause=f.cause, report_event_id=f.report_event_id, status=f.status)
                   for f in backtest.fires],
            reports=reports,
        )  # fmt: skip


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented error responses of a route, each with its body model."""
    described = {
        400: "A body that is not JSON, or a malformed Idempotency-Key",
        401: "No known bearer token",
        403: "Your role on the deployment does not allow this (`code` forbidden)",
        404: "No such deployment (or not one you may see), policy or run",
        409: "The deployment's state refuses it now (`code` says why: policy-limit, run-finished, "
        "run-past-cancel-point, no-retraining-settings, ...), or the Idempotency-Key was used for another command",
    }
    return shared_errors(*statuses, described=described)
