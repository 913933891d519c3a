"""A deployment as the actions service needs it to decide commands.

Stored as one document, so every collection is a tuple of small models (principals such as
"alice@example.com" would make poor field names), sorted so that equal states are equal documents.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.contract.events.values import DeploymentStatus, Importance, PrincipalType, Role, Tag
from shared.contract.topology import Stream


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Grant(_Frozen):
    """A principal's role on the deployment; a principal has one role whatever its type."""

    principal: str
    principal_type: PrincipalType = PrincipalType.USER
    role: Role


class ChangeRequestStatus(enum.StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELED = "canceled"
    EXPIRED = "expired"


class ChangeRequest(_Frozen):
    """A held command and what became of it (as `ChangeRequestOpened` and its closing event say)."""

    id: str
    action: str
    command_version: int = 1
    command_stream: Stream = Stream.ACTIONS_COMMANDS
    command: dict[str, Any]
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    reason: str = ""
    status: ChangeRequestStatus = ChangeRequestStatus.OPEN
    closed_by: str | None = None
    closed_at: datetime | None = None
    comment: str = ""

    @property
    def is_open(self) -> bool:
        return self.status is ChangeRequestStatus.OPEN


class DeploymentState(_Frozen):
    """What the log says about one deployment id; `status` None means nothing yet (the id is free).

    An erased deployment is a tombstone: its id and status `erased`, nothing else."""

    deployment_id: str
    status: DeploymentStatus | None = None
    label: str = ""
    description: str = ""
    tags: tuple[Tag, ...] = ()
    importance: Importance | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    grants: tuple[Grant, ...] = ()
    change_requests: tuple[ChangeRequest, ...] = ()
    """Open ones, then the most recently closed ones (a bounded number), in the order they were opened."""

    @classmethod
    def initial(cls, deployment_id: str) -> DeploymentState:
        return cls(deployment_id=deployment_id)

    @property
    def exists(self) -> bool:
        return self.status is not None

    @property
    def erased(self) -> bool:
        return self.status is DeploymentStatus.ERASED

    @property
    def deleted(self) -> bool:
        return self.status is DeploymentStatus.DELETED

    @property
    def owners(self) -> tuple[str, ...]:
        return tuple(grant.principal for grant in self.grants if grant.role is Role.OWNER)

    def grant_of(self, principal: str) -> Grant | None:
        return next((grant for grant in self.grants if grant.principal == principal), None)

    def change_request(self, change_request_id: str) -> ChangeRequest | None:
        return next((request for request in self.change_requests if request.id == change_request_id), None)

    @property
    def open_change_requests(self) -> tuple[ChangeRequest, ...]:
        return tuple(request for request in self.change_requests if request.is_open)
