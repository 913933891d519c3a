"""Commands the retraining service owns, on its command stream (`<namespace>.retraining-commands`).

From people (HTTP or the topic): settings and policies (OWNER or admin), run a policy and cancel a run
(OWNER, USER or admin). Each ends in the events its docstring names or in `CommandRejected` with a
stable kebab-case code (services.retraining.domain.codes).

Internal (the service sends them to itself; an HTTP edge never accepts them): its scheduler loop sends
what `services.retraining.domain.due.due_commands(state, now)` lists, under the command ids it gives, so
every instance sends the same command for the same work and the handler decides it once.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import AwareDatetime, Field, model_validator

from shared.contract.events.retraining import (
    DESCRIPTION_MAX,
    ID_MAX,
    NAME_MAX,
    PATH_MAX,
    ModelAction,
    ModelingStrategy,
    ModelSelection,
    Trigger,
    TriggerType,
)
from shared.contract.messages import Command
from shared.contract.topology import Stream

Id = Annotated[str, Field(min_length=1, max_length=ID_MAX)]
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX)]


def trigger_problem(trigger: Trigger) -> str | None:
    """Why a trigger cannot be used, or None (a schedule is given for the schedule type and only for it)."""
    if trigger.type is TriggerType.SCHEDULE and trigger.schedule is None:
        return "a schedule trigger needs its schedule (cron fields)"
    if trigger.type is not TriggerType.SCHEDULE and trigger.schedule is not None:
        return f"a {trigger.type} trigger takes no schedule"
    interval = trigger.min_interval_between_runs
    if interval is not None and interval.total_seconds() < 0:
        return "the minimum interval between runs cannot be negative"
    return None


class RetrainingCommand(Command):
    stream: ClassVar[Stream] = Stream.RETRAINING_COMMANDS


class ChangeRetrainingSettings(RetrainingCommand):
    """OWNER: ends in `RetrainingSettingsChanged`. The retraining user must be an OWNER of the deployment
    (by a grant to that user, or the caller's own groups when they name themselves)."""

    type_name: ClassVar[str] = "ChangeRetrainingSettings"

    retraining_user: Annotated[str, Field(min_length=1, max_length=256)]
    dataset_id: str = Field(min_length=1, max_length=PATH_MAX, description="A CSV or Parquet path the trainer reads")
    prediction_environment_id: Id | None = None


class CreateRetrainingPolicy(RetrainingCommand):
    """OWNER, settings first, at most five per deployment: ends in `RetrainingPolicyCreated`; the policy
    id is derived from the command id (`derived_id(command_id, "policy")`)."""

    type_name: ClassVar[str] = "CreateRetrainingPolicy"

    name: Name
    description: Description = ""
    trigger: Trigger
    model_selection: ModelSelection = ModelSelection.AUTOPILOT_RECOMMENDED
    model_action: ModelAction = ModelAction.CREATE_CHALLENGER
    modeling_strategy: ModelingStrategy = ModelingStrategy.SAME_AS_CHAMPION

    @model_validator(mode="after")
    def _usable_trigger(self) -> CreateRetrainingPolicy:
        if (problem := trigger_problem(self.trigger)) is not None:
            raise ValueError(problem)
        return self


class UpdateRetrainingPolicy(RetrainingCommand):
    """OWNER: change the fields given (None: unchanged); ends in `RetrainingPolicyUpdated` (the whole policy)."""

    type_name: ClassVar[str] = "UpdateRetrainingPolicy"

    policy_id: Id
    name: Name | None = None
    description: Description | None = None
    trigger: Trigger | None = None
    model_selection: ModelSelection | None = None
    model_action: ModelAction | None = None
    modeling_strategy: ModelingStrategy | None = None

    @model_validator(mode="after")
    def _something_usable_to_change(self) -> UpdateRetrainingPolicy:
        fields = (self.name, self.description, self.trigger, self.model_selection, self.model_action)
        if all(value is None for value in fields) and self.modeling_strategy is None:
            raise ValueError("give at least one field to change")
        if self.trigger is not None and (problem := trigger_problem(self.trigger)) is not None:
            raise ValueError(problem)
        return self


class DeleteRetrainingPolicy(RetrainingCommand):
    """OWNER: ends in `RetrainingPolicyDeleted`; its runs already started go on."""

    type_name: ClassVar[str] = "DeleteRetrainingPolicy"

    policy_id: Id


class RunRetrainingPolicy(RetrainingCommand):
    """OWNER or USER, by hand, whatever the policy's trigger: ends in `RetrainingRunStarted` (trigger
    manual; run id `derived_id(command_id, "run")`) and, when no other run is in progress, its first steps."""

    type_name: ClassVar[str] = "RunRetrainingPolicy"

    policy_id: Id


class CancelRetrainingRun(RetrainingCommand):
    """OWNER or USER: ends in `RetrainingRunCanceled` (and `TrainingCanceled` if it was training); refused
    once the run reached creating_challenger or replacing_model, or finished."""

    type_name: ClassVar[str] = "CancelRetrainingRun"

    run_id: Id


# ---------------------------------------------------------------- internal


class StartScheduledRun(RetrainingCommand):
    """Internal: a schedule policy is due at `due_at` (a cron time, at most now): ends in
    `RetrainingRunStarted` (trigger schedule); refused when that due time was claimed already."""

    type_name: ClassVar[str] = "StartScheduledRun"

    policy_id: Id
    due_at: AwareDatetime


class StartTriggeredRun(RetrainingCommand):
    """Internal: a health report fired a decline policy (a pending fire in the state, folded from the
    report by event time): ends in `RetrainingRunStarted` with the cause."""

    type_name: ClassVar[str] = "StartTriggeredRun"

    policy_id: Id
    report_event_id: Id


class AdvanceRun(RetrainingCommand):
    """Internal: what a run waited for has come (the trainer's answer, the replacement service's answer,
    or the time to ask it again): ends in the run's next steps and, when it finishes, its outcome."""

    type_name: ClassVar[str] = "AdvanceRun"

    run_id: Id


class ExpireTraining(RetrainingCommand):
    """Internal: a run's training deadline has passed without an answer: ends in `RetrainingRunFailed`
    (code training-timeout) and `TrainingCanceled`; refused before the deadline or once answered."""

    type_name: ClassVar[str] = "ExpireTraining"

    run_id: Id


INTERNAL: tuple[type[RetrainingCommand], ...] = (StartScheduledRun, StartTriggeredRun, AdvanceRun, ExpireTraining)
"""Commands only the service itself sends: an HTTP edge refuses them."""
