"""The limits the retraining domain is built with; the composition root builds `Rules` from its settings."""

from __future__ import annotations

import dataclasses
from datetime import timedelta


@dataclasses.dataclass(frozen=True, slots=True)
class Rules:
    max_policies: int = 5
    """Policies per deployment (DataRobot's limit); the next one is refused with `policy-limit`."""
    training_timeout: timedelta = timedelta(hours=1)
    """How long a run waits for the trainer's answer before it fails with `training-timeout`."""
    model_action_attempts: int = 3
    """How often a run asks the replacement service, when it answers `package-unknown` (it had not yet
    folded the trainer's `ModelPackageRegistered`: the registry stream is another topic)."""
    model_action_retry_after: timedelta = timedelta(seconds=15)
    clock_tolerance: timedelta = timedelta(seconds=30)
    """How far the clocks of two instances may disagree: work the scheduler loop found due by its clock
    (a schedule's due time, a deadline, a retry) is not refused as early by the handler's clock. Refused,
    it would stay refused: the loop sends the same command id again, which the handler drops."""

    def __post_init__(self) -> None:
        if self.max_policies < 1 or self.model_action_attempts < 1:
            raise ValueError("max_policies and model_action_attempts must be at least 1")
        if self.training_timeout <= timedelta(0) or min(
            self.model_action_retry_after, self.clock_tolerance
        ) < timedelta(0):
            raise ValueError("training_timeout must be positive and model_action_retry_after not negative")


DEFAULT_RULES = Rules()
