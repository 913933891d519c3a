"""The change-request policy: configuration the pure domain is built with (no I/O, no settings here).

The composition root builds a `Policy` from its settings and hands it to `decider_for(policy)`.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from shared.contract.events.values import Importance


@dataclasses.dataclass(frozen=True, slots=True)
class Policy:
    guarded_importances: frozenset[Importance] = frozenset({Importance.HIGH, Importance.CRITICAL})
    """On a deployment of one of these importances, deactivate, delete and lowering the importance
    open a change request instead of running."""
    change_request_ttl: timedelta = timedelta(days=7)
    """How long a change request waits for review before it can only expire."""

    def __post_init__(self) -> None:
        if self.change_request_ttl <= timedelta(0):
            raise ValueError(f"change_request_ttl must be positive, not {self.change_request_ttl}")


DEFAULT_POLICY = Policy()

IMPORTANCE_RANK: dict[Importance, int] = {
    Importance.LOW: 0,
    Importance.MODERATE: 1,
    Importance.HIGH: 2,
    Importance.CRITICAL: 3,
}
"""Lowering the importance is moving to a lower rank."""
