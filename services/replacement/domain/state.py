"""A deployment as the replacement service needs it: who may act, its champion and challengers, the
change requests it opened, and the model history (every deploy and replacement, for the history endpoint).

Stored as one document per deployment, so collections are tuples of small frozen models.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.contract.events.values import (
    DeploymentStatus,
    Importance,
    ModelPackageRef,
    PrincipalType,
    ReplacementReason,
    Role,
    ValidationCheck,
    ValidationStatus,
)

MAX_CHALLENGERS = 5


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Grant(_Frozen):
    principal: str
    principal_type: PrincipalType = PrincipalType.USER
    role: Role


class Challenger(_Frozen):
    id: str
    model_package: ModelPackageRef
    added_at: datetime
    added_by: str | None = None


class ModelAction(enum.StrEnum):
    DEPLOYED = "deployed"
    REPLACED = "replaced"
    ROLLED_BACK = "rolled_back"
    PROMOTED = "promoted"


class HistoryEntry(_Frozen):
    """One model's time as champion: from `started_at` until the next entry starts (`ended_at`)."""

    action: ModelAction
    model_package: ModelPackageRef
    reason: ReplacementReason | None = None
    note: str = ""
    actor: str | None = None
    validation_status: ValidationStatus | None = None
    checks: dict[str, ValidationCheck] = Field(default_factory=dict)
    started_at: datetime
    ended_at: datetime | None = None
    event_id: str
    challenger_id: str | None = None
    change_request_id: str | None = None
    rollback_to: int | None = Field(
        default=None,
        description="Index in the history of the entry a rollback from this one restores: the champion before it, "
        "or, for an entry that is itself a rollback, the one before the entry it restored (rollbacks walk back)",
    )


class ChangeRequestStatus(enum.StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELED = "canceled"
    EXPIRED = "expired"


class HeldCommand(_Frozen):
    """A command of this service held by a change request (`ChangeRequestOpened` on the replacement stream)
    and what became of it; the actions service reviews it."""

    change_request_id: str
    action: str
    command_version: int = 1
    command: dict[str, Any]
    requested_by: str
    expires_at: datetime
    status: ChangeRequestStatus = ChangeRequestStatus.OPEN
    ran: bool = Field(default=False, description="The approved command has run (it runs once)")

    def is_open(self, now: datetime) -> bool:
        return self.status is ChangeRequestStatus.OPEN and now < self.expires_at


class ReplacementState(_Frozen):
    """What the log says about one deployment id; `status` None means the service has not seen it."""

    deployment_id: str
    status: DeploymentStatus | None = None
    importance: Importance | None = None
    grants: tuple[Grant, ...] = ()
    champion: ModelPackageRef | None = None
    challengers: tuple[Challenger, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    held: tuple[HeldCommand, ...] = ()

    @classmethod
    def initial(cls, deployment_id: str) -> ReplacementState:
        return cls(deployment_id=deployment_id)

    @property
    def exists(self) -> bool:
        return self.status is not None

    def challenger(self, challenger_id: str) -> Challenger | None:
        return next((c for c in self.challengers if c.id == challenger_id), None)

    def challenger_of_package(self, model_package_id: str) -> Challenger | None:
        return next((c for c in self.challengers if c.model_package.id == model_package_id), None)

    @property
    def rollback_target(self) -> HistoryEntry | None:
        """The champion a rollback restores, None when there is nothing to go back to."""
        if not self.history or self.history[-1].rollback_to is None:
            return None
        return self.history[self.history[-1].rollback_to]

    def held_command(self, change_request_id: str) -> HeldCommand | None:
        return next((h for h in self.held if h.change_request_id == change_request_id), None)
