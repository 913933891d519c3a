"""Retraining settings, policies and runs (owned by the retraining service), and the training jobs it
hands to a trainer.

Deployment stream (the log of record): settings, policies, and a run's life
`RetrainingRunStarted` (step `queued`) → `RetrainingRunStepChanged` per step → exactly one of
`RetrainingRunSucceeded`, `RetrainingRunFailed`, `RetrainingRunCanceled`. Steps (`RunStep`):

    queued → preparing_data → training → registering_package →
        creating_challenger | replacing_model | registering_only → succeeded
    (or failed at any step; or canceled before creating_challenger / replacing_model)

Training-jobs stream (`<namespace>.training-jobs`, keyed by deployment id): the retraining service asks
with `TrainingRequested`; the trainer answers once per run with `TrainingSucceeded` (after it published
`ModelPackageRegistered` for the new package on the registry stream) or `TrainingFailed`. An answer after
`deadline` or after `TrainingCanceled` is ignored (the run already failed or was canceled). A trainer
should derive the package id from the run id (e.g. `derived_id(run_id, "package")`), so a redelivered
request registers the same package again rather than a second one.

Every field added after the first version has a default, so events written before still parse.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Annotated, ClassVar

from pydantic import AwareDatetime, Field

from shared.contract.events.values import HealthStatus, ReplacementReason, Value
from shared.contract.messages import Actor, Event
from shared.contract.topology import Stream

ID_MAX = 256
ERROR_MAX = 4_000
PATH_MAX = 1_024
NAME_MAX = 512
DESCRIPTION_MAX = 10_000
METRICS_MAX = 50
HYPERPARAMETERS_MAX = 100

Id = Annotated[str, Field(min_length=1, max_length=ID_MAX)]
ErrorText = Annotated[str, Field(max_length=ERROR_MAX)]
HyperparameterValue = str | int | float | bool | None
Hyperparameters = Annotated[
    dict[Annotated[str, Field(max_length=ID_MAX)], HyperparameterValue],
    Field(max_length=HYPERPARAMETERS_MAX, description="Estimator parameters by name (JSON scalars)"),
]
Metrics = Annotated[
    dict[Annotated[str, Field(max_length=ID_MAX)], Annotated[float, Field(allow_inf_nan=False)]],
    Field(max_length=METRICS_MAX, description="Holdout metrics by name, e.g. {'roc_auc': 0.91}"),
]


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


class ModelingStrategy(enum.StrEnum):
    SAME_AS_CHAMPION = "same_as_champion"
    OVERRIDE_CHAMPION = "override_champion"
    CUSTOM = "custom"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class RunStep(enum.StrEnum):
    """Where a running run is; `RetrainingRunStepChanged.step` holds one of these."""

    QUEUED = "queued"
    PREPARING_DATA = "preparing_data"
    TRAINING = "training"
    REGISTERING_PACKAGE = "registering_package"
    CREATING_CHALLENGER = "creating_challenger"
    REPLACING_MODEL = "replacing_model"
    REGISTERING_ONLY = "registering_only"


class Cause(enum.StrEnum):
    """Why a run started: which switch of its trigger fired, the schedule, or a person."""

    DECLINED_TO_WARNING = "declined_to_warning"
    DECLINED_TO_FAILING = "declined_to_failing"
    STILL_IN_DECLINE = "still_in_decline"
    SCHEDULE = "schedule"
    MANUAL = "manual"


Minute = Annotated[int, Field(ge=0, le=59)]
Hour = Annotated[int, Field(ge=0, le=23)]
DayOfMonth = Annotated[int, Field(ge=1, le=31)]
Month = Annotated[int, Field(ge=1, le=12)]
DayOfWeek = Annotated[int, Field(ge=0, le=6, description="0 = Sunday … 6 = Saturday, as in cron")]


class Schedule(Value):
    """Cron fields, in UTC; an empty tuple means every value ('*'). As in cron, when both day of month
    and day of week are restricted, a day matches if either does."""

    minute: tuple[Minute, ...] = Field(default=(), max_length=60)
    hour: tuple[Hour, ...] = Field(default=(), max_length=24)
    day_of_month: tuple[DayOfMonth, ...] = Field(default=(), max_length=31)
    month: tuple[Month, ...] = Field(default=(), max_length=12)
    day_of_week: tuple[DayOfWeek, ...] = Field(default=(), max_length=7)


class Trigger(Value):
    """What starts a policy's runs besides a person. `schedule` is set for (and only for) the schedule type;
    the three switches apply to the decline types; the minimum interval throttles automatic runs (by
    the time of what fired them: the health report's event time or the schedule's due time)."""

    type: TriggerType
    schedule: Schedule | None = None
    status_declines_to_warning: bool = True
    status_declines_to_failing: bool = True
    status_still_in_decline: bool = False
    min_interval_between_runs: timedelta | None = Field(
        default=None, description="ISO-8601 duration, e.g. PT6H; None or zero: no minimum"
    )


class RetrainingEvent(Event):
    stream: ClassVar[Stream] = Stream.DEPLOYMENT


class RetrainingSettingsChanged(RetrainingEvent):
    type_name: ClassVar[str] = "RetrainingSettingsChanged"

    retraining_user: str = Field(description="Scheduled and triggered runs act as this user (an OWNER)")
    dataset_id: str = Field(description="The retraining dataset: a CSV or Parquet path the trainer can read")
    prediction_environment_id: str | None = Field(
        default=None, description="Where challengers are scored; None: the deployment's own"
    )


class RetrainingPolicyCreated(RetrainingEvent):
    type_name: ClassVar[str] = "RetrainingPolicyCreated"

    policy_id: str
    name: str = Field(min_length=1, max_length=512)
    description: str = ""
    trigger: Trigger
    model_selection: ModelSelection = ModelSelection.AUTOPILOT_RECOMMENDED
    model_action: ModelAction = ModelAction.CREATE_CHALLENGER
    modeling_strategy: str = Field(default="same_as_champion", description="One of ModelingStrategy")


class RetrainingPolicyUpdated(RetrainingPolicyCreated):
    """The policy as it is now, whole (every field, changed or not)."""

    type_name: ClassVar[str] = "RetrainingPolicyUpdated"


class RetrainingPolicyDeleted(RetrainingEvent):
    type_name: ClassVar[str] = "RetrainingPolicyDeleted"

    policy_id: str


class RetrainingRunStarted(RetrainingEvent):
    """A run was started and is queued; it runs the policy as it was at this moment."""

    type_name: ClassVar[str] = "RetrainingRunStarted"

    run_id: str
    policy_id: str
    trigger: TriggerType = Field(description="manual for a run started by hand, whatever the policy's trigger")
    started_at: AwareDatetime
    cause: Cause | None = None
    triggered_at: AwareDatetime | None = Field(
        default=None, description="Event time of the health report that fired, or the schedule's due time"
    )
    cause_event_id: str | None = Field(default=None, description="The DriftDetected/AccuracyChanged that fired")
    cause_status: HealthStatus | None = Field(default=None, description="The status that report gave")
    started_by: str | None = Field(default=None, description="Who started it by hand")
    acting_as: Actor | None = Field(
        default=None, description="Whom a run started by hand acts as (its starter); None: the retraining user"
    )
    model_selection: ModelSelection | None = None
    model_action: ModelAction | None = None
    modeling_strategy: str | None = Field(default=None, max_length=64)


class RetrainingRunStepChanged(RetrainingEvent):
    """The run reached `step`. From registering_package on, `model_package_id` names the new package; the
    replacing_model and creating_challenger steps also say what the retraining service asks of the
    replacement service (`ReplaceModel` / `AddChallenger`, as `acting_as`); `attempt` counts those asks."""

    type_name: ClassVar[str] = "RetrainingRunStepChanged"

    run_id: str
    step: str = Field(max_length=64, description="One of RunStep: queued, preparing_data, training, ...")
    model_package_id: str | None = None
    replacement_reason: ReplacementReason | None = None
    prediction_environment_id: str | None = None
    acting_as: Actor | None = None
    attempt: int = Field(default=1, ge=1)


class RetrainingRunSucceeded(RetrainingEvent):
    type_name: ClassVar[str] = "RetrainingRunSucceeded"

    run_id: str
    finished_at: AwareDatetime
    model_package_id: str | None = None
    challenger_id: str | None = None
    metrics: Metrics = Field(default_factory=dict)


class RetrainingRunFailed(RetrainingEvent):
    type_name: ClassVar[str] = "RetrainingRunFailed"

    run_id: str
    finished_at: AwareDatetime
    error: str
    code: str | None = Field(default=None, max_length=64, description="Stable, e.g. training-timeout")
    step: str | None = Field(default=None, max_length=64, description="The step it failed at")
    model_package_id: str | None = None


class RetrainingRunCanceled(RetrainingEvent):
    type_name: ClassVar[str] = "RetrainingRunCanceled"

    run_id: str
    finished_at: AwareDatetime
    canceled_by: str | None = None
    step: str | None = Field(default=None, max_length=64, description="The step it was canceled at")


# ---------------------------------------------------------------- training jobs


class TrainingEvent(Event):
    stream: ClassVar[Stream] = Stream.TRAINING_JOBS


class TrainingRequested(TrainingEvent):
    """Train a model for a run: read `dataset_path`, predict `target_name`, choose as `model_selection`
    says (same_blueprint: the champion's `estimator_family`; same_hyperparameters: also its
    `hyperparameters`; both fall back to autopilot when unknown), register the package, answer."""

    type_name: ClassVar[str] = "TrainingRequested"

    run_id: Id
    policy_id: Id
    dataset_path: str = Field(min_length=1, max_length=PATH_MAX)
    target_name: str = Field(min_length=1, max_length=NAME_MAX)
    model_selection: ModelSelection
    modeling_strategy: ModelingStrategy = ModelingStrategy.SAME_AS_CHAMPION
    champion_model_package_id: str | None = Field(default=None, max_length=ID_MAX)
    estimator_family: str | None = Field(
        default=None, max_length=ID_MAX, description="The champion's, if it came from a trainer, e.g. RandomForest"
    )
    hyperparameters: Hyperparameters = Field(default_factory=dict)
    deadline: AwareDatetime = Field(description="An answer after this is ignored: the run has failed by then")


class TrainingSucceeded(TrainingEvent):
    """The trainer registered `model_package_id` (ModelPackageRegistered already published)."""

    type_name: ClassVar[str] = "TrainingSucceeded"

    run_id: Id
    model_package_id: Id
    metrics: Metrics = Field(default_factory=dict)
    estimator_family: str | None = Field(default=None, max_length=ID_MAX)
    hyperparameters: Hyperparameters = Field(default_factory=dict)


class TrainingFailed(TrainingEvent):
    type_name: ClassVar[str] = "TrainingFailed"

    run_id: Id
    error: ErrorText = Field(min_length=1)


class TrainingCanceled(TrainingEvent):
    """The run was canceled or timed out: a trainer may stop working on it (its answer is ignored anyway)."""

    type_name: ClassVar[str] = "TrainingCanceled"

    run_id: Id
    reason: ErrorText = ""
