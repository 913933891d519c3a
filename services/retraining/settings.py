"""Retraining settings: `LIFECYCLE_*` shared with every service, `RETRAINING_*` its own (they win)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from pydantic import Field

from services.retraining.domain.rules import Rules
from shared.service.commands import CommandSettings
from shared.service.settings import Part, ServiceSettings


class RulesSettings(Part):
    """The domain's limits (`RETRAINING_RULES__...`); durations as seconds or ISO 8601 ('PT1H')."""

    max_policies: int = Field(default=5, ge=1, description="Policies per deployment; the next is refused")
    training_timeout: timedelta = Field(
        default=timedelta(hours=1), gt=timedelta(0), description="How long a run waits for the trainer's answer"
    )
    model_action_attempts: int = Field(
        default=3, ge=1, description="Asks of the replacement service while it answers package-unknown"
    )
    model_action_retry_after: timedelta = Field(default=timedelta(seconds=15), ge=timedelta(0))
    clock_tolerance: timedelta = Field(
        default=timedelta(seconds=30),
        ge=timedelta(0),
        description="How far the clocks of two instances may disagree (see domain.rules)",
    )

    def rules(self) -> Rules:
        return Rules(
            max_policies=self.max_policies,
            training_timeout=self.training_timeout,
            model_action_attempts=self.model_action_attempts,
            model_action_retry_after=self.model_action_retry_after,
            clock_tolerance=self.clock_tolerance,
        )


class SchedulerSettings(Part):
    """The scheduler loop (`RETRAINING_SCHEDULER__...`): what turns folded facts and the passing of time
    into commands (see entrypoints/scheduler.py)."""

    interval_s: float = Field(
        default=5.0,
        gt=0,
        description="How often it looks for work that only time brings (a schedule's due time, a training "
        "deadline, a retry): a scheduled run starts at most this late. The work an event brings (a fire, an "
        "answer of the trainer or the replacement service) is sent at once, right after the event is folded. A "
        "tick is one equality query per minute passed, cheap on FerretDB too",
    )
    full_sweep_interval_s: float = Field(
        default=900.0,
        gt=0,
        description="How often a tick sweeps instead: every deployment whose work has come, whatever minute it "
        "was slotted in (work slotted by an instance whose clock runs behind, a command not yet decided when its "
        "minute passed). On FerretDB a sweep reads the whole deployments collection (3-9 ms a deployment), so "
        "keep it rare; it also runs at start",
    )
    resend_after_s: float = Field(
        default=60.0,
        gt=0,
        description="A command sent and still listed as due this long after is sent again (same id: the handler "
        "runs it once)",
    )


class RetrainingSettings(ServiceSettings):
    service_env_prefix: ClassVar[str] = "RETRAINING_"
    service_defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "mongo": {"database": "lifecycle_retraining"},
        "http": {"port": 8004},
    }

    service_name: str = "retraining"
    commands: CommandSettings = CommandSettings()
    rules: RulesSettings = RulesSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
