"""The change-request policy the replacement domain is built with (the actions service's rule, issue 8).

On a deployment of a guarded importance, replacing, rolling back and promoting do not run directly: they
open a change request (`ChangeRequestOpened` on the deployment stream, holding the command) that the
actions service has reviewed; once approved, the held command runs against the deployment as it is then.
The composition root builds a `Policy` from its settings (the same values as the actions service's).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from services.replacement.domain.state import ReplacementState
from shared.contract.events.values import Importance


@dataclasses.dataclass(frozen=True, slots=True)
class Policy:
    guarded_importances: frozenset[Importance] = frozenset({Importance.HIGH, Importance.CRITICAL})
    change_request_ttl: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        if self.change_request_ttl <= timedelta(0):
            raise ValueError(f"change_request_ttl must be positive, not {self.change_request_ttl}")

    def guards(self, state: ReplacementState) -> bool:
        return state.importance in self.guarded_importances


DEFAULT_POLICY = Policy()
