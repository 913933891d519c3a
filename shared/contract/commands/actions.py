"""Commands the actions service owns, on its command stream (`<namespace>.actions-commands`).

Every string is bounded (the HTTP edge and the command topic are fuzzed). Each command ends in the
events its docstring names, or in `CommandRejected` with a stable kebab-case code. On a deployment of
guarded importance (HIGH, CRITICAL by default), deactivate, delete and lowering the importance open a
change request instead of running (`ChangeRequestOpened`); `reason` tells the reviewers why.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field, model_validator

from shared.contract.events.values import (
    Importance,
    ModelPackageRef,
    PredictionEnvironment,
    PrincipalType,
    Role,
    Tag,
)
from shared.contract.messages import Command
from shared.contract.topology import Stream

PRINCIPAL_MAX = 256
REASON_MAX = 1_000
COMMENT_MAX = 2_000
ID_MAX = 128

Principal = Annotated[str, Field(min_length=1, max_length=PRINCIPAL_MAX, description="A user or group name")]
Reason = Annotated[str, Field(max_length=REASON_MAX, description="Why; shown to the change request's reviewers")]
Comment = Annotated[str, Field(max_length=COMMENT_MAX)]
ChangeRequestId = Annotated[str, Field(min_length=1, max_length=ID_MAX)]


class ActionsCommand(Command):
    stream: ClassVar[Stream] = Stream.ACTIONS_COMMANDS


class RegisterDeployment(ActionsCommand):
    """Register a deployment that no serving platform announced; it ends in `DeploymentCreated`
    (created by the actor, active) or `CommandRejected` with code `already-exists`."""

    type_name: ClassVar[str] = "RegisterDeployment"

    label: str = Field(min_length=1, max_length=512)
    description: str = Field(default="", max_length=10_000)
    importance: Importance = Importance.MODERATE
    model_package: ModelPackageRef
    prediction_environment: PredictionEnvironment
    owners: tuple[Principal, ...] = Field(
        default=(), max_length=100, description="Principals with OWNER besides the actor"
    )
    tags: tuple[Tag, ...] = Field(default=(), max_length=100)


class ActivateDeployment(ActionsCommand):
    """Ends in `DeploymentActivated`."""

    type_name: ClassVar[str] = "ActivateDeployment"


class DeactivateDeployment(ActionsCommand):
    """Ends in `DeploymentDeactivated`, or `ChangeRequestOpened` on a deployment of guarded importance."""

    type_name: ClassVar[str] = "DeactivateDeployment"

    reason: Reason = ""


class DeleteDeployment(ActionsCommand):
    """Soft delete: ends in `DeploymentDeleted`, or `ChangeRequestOpened` on a guarded deployment."""

    type_name: ClassVar[str] = "DeleteDeployment"

    reason: Reason = ""


class EraseDeployment(ActionsCommand):
    """Permanent erasure of a deleted deployment, by an admin: ends in `DeploymentErased`."""

    type_name: ClassVar[str] = "EraseDeployment"

    reason: Reason = ""


class ChangeImportance(ActionsCommand):
    """Ends in `DeploymentImportanceChanged`; lowering a guarded importance opens a change request."""

    type_name: ClassVar[str] = "ChangeImportance"

    importance: Importance
    reason: Reason = ""


class ChangeDeploymentSettings(ActionsCommand):
    """Relabel, describe or retag: ends in `DeploymentSettingsChanged` with the fields that change."""

    type_name: ClassVar[str] = "ChangeDeploymentSettings"

    label: str | None = Field(default=None, min_length=1, max_length=512)
    description: str | None = Field(default=None, max_length=10_000)
    tags: tuple[Tag, ...] | None = Field(default=None, max_length=100, description="Replaces every tag")

    @model_validator(mode="after")
    def _something_to_change(self) -> ChangeDeploymentSettings:
        if self.label is None and self.description is None and self.tags is None:
            raise ValueError("give at least one of label, description, tags")
        return self


class ShareDeployment(ActionsCommand):
    """Grant `role` to a user or a group (replacing the role it had): ends in `DeploymentShared`."""

    type_name: ClassVar[str] = "ShareDeployment"

    principal: Principal
    principal_type: Literal[PrincipalType.USER, PrincipalType.GROUP] = PrincipalType.USER
    role: Role


class RevokeAccess(ActionsCommand):
    """Remove a principal's role: ends in `DeploymentAccessRevoked`."""

    type_name: ClassVar[str] = "RevokeAccess"

    principal: Principal


class ClearStatistics(ActionsCommand):
    """Reset monitoring statistics, for all time or [start, end), optionally of one model package:
    ends in `DeploymentStatisticsCleared`."""

    type_name: ClassVar[str] = "ClearStatistics"

    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    model_package_id: str | None = Field(default=None, min_length=1, max_length=ID_MAX)

    @model_validator(mode="after")
    def _start_before_end(self) -> ClearStatistics:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class ApproveChangeRequest(ActionsCommand):
    """Another OWNER or an admin approves: ends in `ChangeRequestApproved` followed by the events of
    the held command, run against the deployment as it is now."""

    type_name: ClassVar[str] = "ApproveChangeRequest"

    change_request_id: ChangeRequestId
    comment: Comment = ""


class RejectChangeRequest(ActionsCommand):
    """Another OWNER or an admin rejects: ends in `ChangeRequestRejected`; the held command never runs."""

    type_name: ClassVar[str] = "RejectChangeRequest"

    change_request_id: ChangeRequestId
    comment: Comment = ""


class CancelChangeRequest(ActionsCommand):
    """The requester withdraws their request: ends in `ChangeRequestCanceled`."""

    type_name: ClassVar[str] = "CancelChangeRequest"

    change_request_id: ChangeRequestId


class ExpireChangeRequest(ActionsCommand):
    """Sent by the service's own sweeper once a request's deadline has passed: ends in
    `ChangeRequestExpired`; refused before the deadline."""

    type_name: ClassVar[str] = "ExpireChangeRequest"

    change_request_id: ChangeRequestId


HOLDABLE: tuple[type[ActionsCommand], ...] = (DeactivateDeployment, DeleteDeployment, ChangeImportance)
"""The actions commands a change request may hold."""
