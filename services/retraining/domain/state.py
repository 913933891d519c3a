"""A deployment as the retraining service needs it: who may act, its champion, the retraining settings,
its policies (with their trigger bookkeeping), the latest health readings, the fires not yet turned into
runs, the runs (every one in progress and the newest finished ones) and what its trainer said about the
packages it trained.

Stored as one document per deployment, so collections are tuples of small frozen models. Times are UTC,
to the millisecond (as the database keeps them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contract.events.retraining import (
    Cause,
    HyperparameterValue,
    ModelAction,
    ModelSelection,
    RunStatus,
    RunStep,
    Trigger,
    TriggerType,
)
from shared.contract.events.values import DeploymentStatus, HealthStatus, ModelPackageRef, PrincipalType, Role
from shared.contract.messages import Actor


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Grant(_Frozen):
    principal: str
    principal_type: PrincipalType = PrincipalType.USER
    role: Role


class Settings(_Frozen):
    retraining_user: str
    dataset_id: str
    prediction_environment_id: str | None = None


class Reading(_Frozen):
    """A health report as trigger evaluation sees it: a status at an event time."""

    status: HealthStatus
    at: datetime
    event_id: str


class TriggerClock(_Frozen):
    """What a policy's automatic trigger has done so far, all by event time: reports before
    `active_from` never fire it, schedule due times up to `scheduled_through` are claimed, and the next
    automatic run is not before `last_fired_at` + the minimum interval."""

    active_from: datetime
    scheduled_through: datetime
    last_fired_at: datetime | None = None


class Policy(_Frozen):
    id: str
    name: str
    description: str = ""
    trigger: Trigger
    model_selection: ModelSelection
    model_action: ModelAction
    modeling_strategy: str
    created_at: datetime
    updated_at: datetime
    clock: TriggerClock


class Fire(_Frozen):
    """A health report fired a decline policy; a run starts for it (StartTriggeredRun) and removes it."""

    policy_id: str
    trigger: TriggerType
    cause: Cause
    status: HealthStatus
    at: datetime
    report_event_id: str


class TrainingAnswer(_Frozen):
    succeeded: bool
    model_package_id: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    estimator_family: str | None = None
    hyperparameters: dict[str, HyperparameterValue] = Field(default_factory=dict)
    error: str = ""
    at: datetime
    event_id: str


class ActionAnswer(_Frozen):
    """What the replacement service did with the run's ReplaceModel / AddChallenger."""

    outcome: Literal["done", "refused"]
    code: str | None = None
    reason: str = ""
    challenger_id: str | None = None
    at: datetime
    event_id: str


class Run(_Frozen):
    id: str
    policy_id: str
    trigger: TriggerType
    cause: Cause
    triggered_at: datetime
    cause_event_id: str | None = None
    cause_status: HealthStatus | None = None
    started_at: datetime
    started_by: Actor | None = Field(default=None, description="The person, for a manual run")
    model_selection: ModelSelection
    model_action: ModelAction
    modeling_strategy: str
    status: RunStatus = RunStatus.RUNNING
    step: RunStep = RunStep.QUEUED
    step_at: datetime
    deadline: datetime | None = None
    answer: TrainingAnswer | None = None
    model_package_id: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    action_attempt: int = 0
    action_command_id: str | None = Field(default=None, description="Id of the ReplaceModel/AddChallenger asked")
    action_actor: Actor | None = None
    action_reason: str | None = None
    action_environment_id: str | None = None
    change_request_id: str | None = Field(default=None, description="The replacement waits for this approval")
    action_answer: ActionAnswer | None = None
    challenger_id: str | None = None
    finished_at: datetime | None = None
    error: str | None = None
    error_code: str | None = None
    canceled_by: str | None = None

    @property
    def running(self) -> bool:
        return self.status is RunStatus.RUNNING

    @property
    def in_progress(self) -> bool:
        """Past the queue and not finished: at most one run of a deployment is."""
        return self.running and self.step is not RunStep.QUEUED

    @property
    def duration(self) -> timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.started_at


class TrainedModel(_Frozen):
    """A package the trainer made for this deployment, and how: same_blueprint/same_hyperparameters reuse it."""

    model_package_id: str
    estimator_family: str | None = None
    hyperparameters: dict[str, HyperparameterValue] = Field(default_factory=dict)


class RetrainingState(_Frozen):
    """What the log says about one deployment id; `status` None means the service has not seen it."""

    deployment_id: str
    status: DeploymentStatus | None = None
    grants: tuple[Grant, ...] = ()
    champion: ModelPackageRef | None = None
    prediction_environment_id: str | None = Field(default=None, description="The deployment's own")
    settings: Settings | None = None
    policies: tuple[Policy, ...] = ()
    health: dict[str, Reading] = Field(default_factory=dict, description="Latest reading by dimension")
    pending: tuple[Fire, ...] = ()
    runs: tuple[Run, ...] = Field(default=(), description="In start order")
    trained: tuple[TrainedModel, ...] = ()

    @classmethod
    def initial(cls, deployment_id: str) -> RetrainingState:
        return cls(deployment_id=deployment_id)

    @property
    def exists(self) -> bool:
        return self.status is not None

    def policy(self, policy_id: str) -> Policy | None:
        return next((p for p in self.policies if p.id == policy_id), None)

    def run(self, run_id: str) -> Run | None:
        return next((r for r in self.runs if r.id == run_id), None)

    def fire(self, policy_id: str, report_event_id: str) -> Fire | None:
        return next((f for f in self.pending if (f.policy_id, f.report_event_id) == (policy_id, report_event_id)), None)

    @property
    def in_progress(self) -> Run | None:
        return next((r for r in self.runs if r.in_progress), None)

    @property
    def queued(self) -> tuple[Run, ...]:
        """Runs waiting for their turn, first come first served."""
        return tuple(r for r in self.runs if r.running and r.step is RunStep.QUEUED)

    def trained_model(self, model_package_id: str) -> TrainedModel | None:
        return next((t for t in self.trained if t.model_package_id == model_package_id), None)
