"""Retraining settings, policies and runs (owned by the retraining service)."""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import ClassVar

from pydantic import AwareDatetime, Field

from shared.contract.events.values import Value
from shared.contract.messages import Event
from shared.contract.topology import Stream


class TriggerType(enum.StrEnum):
    SCHEDULE = "schedule"
    DATA_DRIFT_DECLINE = "data_drift_decline"
    ACCURACY_DECLINE = "accuracy_decline"
    MANUAL = "manual"


class ModelSelection(enum.StrEnum):
    AUTOPILOT_RECOMMENDED = "autopilot_recommended"
    SAME_BLUEPRINT = "same_blueprint"
    SAME_HYPERPARAMETERS = "same_hyperparameters"


class ModelAction(enum.StrEnum):
    MODEL_REPLACEMENT = "model_replacement"
    CREATE_CHALLENGER = "create_challenger"
    CREATE_MODEL_PACKAGE = "create_model_package"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class Schedule(Value):
    """Cron fields; an empty tuple means every value ('*')."""

    minute: tuple[int, ...] = ()
    hour: tuple[int, ...] = ()
    day_of_month: tuple[int, ...] = ()
    month: tuple[int, ...] = ()
    day_of_week: tuple[int, ...] = ()


class Trigger(Value):
    type: TriggerType
    schedule: Schedule | None = None
    status_declines_to_warning: bool = True
    status_declines_to_failing: bool = True
    status_still_in_decline: bool = False
    min_interval_between_runs: timedelta | None = None


class RetrainingEvent(Event):
    stream: ClassVar[Stream] = Stream.DEPLOYMENT


class RetrainingSettingsChanged(RetrainingEvent):
    type_name: ClassVar[str] = "RetrainingSettingsChanged"

    retraining_user: str
    dataset_id: str
    prediction_environment_id: str | None = None


class RetrainingPolicyCreated(RetrainingEvent):
    type_name: ClassVar[str] = "RetrainingPolicyCreated"

    policy_id: str
    name: str = Field(min_length=1, max_length=512)
    description: str = ""
    trigger: Trigger
    model_selection: ModelSelection = ModelSelection.AUTOPILOT_RECOMMENDED
    model_action: ModelAction = ModelAction.CREATE_CHALLENGER
    modeling_strategy: str = "same_as_champion"


class RetrainingPolicyUpdated(RetrainingPolicyCreated):
    type_name: ClassVar[str] = "RetrainingPolicyUpdated"


class RetrainingPolicyDeleted(RetrainingEvent):
    type_name: ClassVar[str] = "RetrainingPolicyDeleted"

    policy_id: str


class RetrainingRunStarted(RetrainingEvent):
    type_name: ClassVar[str] = "RetrainingRunStarted"

    run_id: str
    policy_id: str
    trigger: TriggerType
    started_at: AwareDatetime


class RetrainingRunStepChanged(RetrainingEvent):
    type_name: ClassVar[str] = "RetrainingRunStepChanged"

    run_id: str
    step: str = Field(description="e.g. preparing_data, training, creating_model_package, replacing_model")


class RetrainingRunSucceeded(RetrainingEvent):
    type_name: ClassVar[str] = "RetrainingRunSucceeded"

    run_id: str
    finished_at: AwareDatetime
    model_package_id: str | None = None
    challenger_id: str | None = None


class RetrainingRunFailed(RetrainingEvent):
    type_name: ClassVar[str] = "RetrainingRunFailed"

    run_id: str
    finished_at: AwareDatetime
    error: str


class RetrainingRunCanceled(RetrainingEvent):
    type_name: ClassVar[str] = "RetrainingRunCanceled"

    run_id: str
    finished_at: AwareDatetime
