"""What the replacement API reads and writes: request bodies (unknown fields refused, every string
bounded), the dry run's answer, the model history, and the error bodies. The commands themselves are
the contract's (shared.contract.commands.replacement)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.replacement.domain.state import (
    ChangeRequestStatus,
    HeldCommand,
    HistoryEntry,
    ModelAction,
    ReplacementState,
)
from services.replacement.domain.validation import Validation
from shared.contract.events.values import (
    DeploymentStatus,
    Importance,
    ModelPackageRef,
    ReplacementReason,
    ValidationCheck,
    ValidationStatus,
)
from shared.service.command_api import Accepted, Problem
from shared.service.problems import errors as shared_errors

DEPLOYMENT_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
CHALLENGER_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
"""No `:` in a challenger id: `/challengers/{id}:promote` must be unambiguous (ids are derived uuids)."""
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
"""Ids are stored and queried as they are: no control characters (PostgreSQL under FerretDB refuses NUL)."""
TEXT = r"^[^\x00]*$"
PACKAGE_ID = Field(
    min_length=1, max_length=256, pattern=PRINTABLE, description="A model package registered with the service"
)
NOTE = Field(default="", max_length=2_000, pattern=TEXT, description="Free text kept in the model history")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValidateBody(Body):
    model_package_id: str = PACKAGE_ID


class ReplaceBody(Body):
    model_package_id: str = PACKAGE_ID
    reason: ReplacementReason
    note: str = NOTE


class RollbackBody(Body):
    reason: ReplacementReason
    note: str = NOTE


class PromoteBody(Body):
    reason: ReplacementReason
    note: str = NOTE


class AddChallengerBody(Body):
    model_package_id: str = PACKAGE_ID
    prediction_environment_id: str | None = Field(default=None, min_length=1, max_length=256, pattern=PRINTABLE)


class ValidationOut(BaseModel):
    """A package checked against the deployment's current model: `passing` or `warning` may replace it,
    `failing` may not; each named check says why."""

    deployment_id: str
    model_package_id: str
    current_model_package_id: str | None
    status: ValidationStatus
    message: str = Field(description="The failing checks and their messages, or that none fails")
    checks: dict[str, ValidationCheck] = Field(description="By check name, in a stable order")

    @classmethod
    def of(cls, deployment_id: str, validation: Validation) -> ValidationOut:
        return cls(
            deployment_id=deployment_id,
            model_package_id=validation.model_package_id,
            current_model_package_id=validation.previous_model_package_id,
            status=validation.status,
            message=validation.summary(),
            checks=validation.as_dict(),
        )


class DryRunOut(ValidationOut):
    command_id: str = Field(description="The ValidateReplacement command that records this outcome for auditors")
    status_url: str


class ReplacementAccepted(Accepted):
    change_request_id: str | None = Field(
        default=None,
        description="Set when the deployment's importance needs approval: the change request the command is "
        "expected to open (reviewed through the actions service); the command runs once it is approved",
    )
    challenger_id: str | None = Field(default=None, description="The id the added challenger will have")


class ReplacementProblem(Problem):
    """A refusal; for a change of model refused by its checks, which ones fail and every check."""

    failing: list[str] | None = None
    checks: dict[str, ValidationCheck] | None = None


class ChallengerOut(BaseModel):
    id: str
    model_package: ModelPackageRef
    added_at: datetime
    added_by: str | None


class HistoryEntryOut(BaseModel):
    """One model's time as champion, from `started_at` until `ended_at` (None: it serves now)."""

    action: ModelAction
    model_package: ModelPackageRef
    reason: ReplacementReason | None
    note: str
    actor: str | None
    validation_status: ValidationStatus | None
    checks: dict[str, ValidationCheck]
    started_at: datetime
    ended_at: datetime | None
    challenger_id: str | None
    change_request_id: str | None
    event_id: str

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryEntryOut:
        return cls.model_validate(entry.model_dump(exclude={"rollback_to"}))


class ChangeRequestOut(BaseModel):
    """A change of model held for approval (reviewed through the actions service) and what became of it."""

    id: str
    action: str
    changes: dict[str, Any]
    status: ChangeRequestStatus
    requested_by: str
    expires_at: datetime
    ran: bool

    @classmethod
    def of(cls, held: HeldCommand) -> ChangeRequestOut:
        envelope_fields = {"command_id", "deployment_id", "actor", "change_request_id"}
        return cls(
            id=held.change_request_id,
            action=held.action,
            changes={k: v for k, v in held.command.items() if k not in envelope_fields},
            status=held.status,
            requested_by=held.requested_by,
            expires_at=held.expires_at,
            ran=held.ran,
        )


class ModelHistoryOut(BaseModel):
    deployment_id: str
    status: DeploymentStatus | None
    importance: Importance | None
    champion: ModelPackageRef | None
    challengers: list[ChallengerOut]
    history: list[HistoryEntryOut] = Field(description="Every deploy and change of model, oldest first")
    change_requests: list[ChangeRequestOut] = Field(description="Changes of model held for approval, recent ones")

    @classmethod
    def of(cls, state: ReplacementState) -> ModelHistoryOut:
        return cls(
            deployment_id=state.deployment_id,
            status=state.status,
            importance=state.importance,
            champion=state.champion,
            challengers=[ChallengerOut.model_validate(c.model_dump()) for c in state.challengers],
            history=[HistoryEntryOut.of(entry) for entry in state.history],
            change_requests=[ChangeRequestOut.of(held) for held in state.held],
        )


_DESCRIBED: Mapping[int, str] = {
    400: "A malformed Idempotency-Key",
    401: "No known bearer token",
    403: "Your role on the deployment does not allow this (`code` forbidden: replacing needs OWNER)",
    404: "No such deployment (or not one you may see), model package (`package-unknown`: not registered with "
    "the service) or challenger (`challenger-unknown`)",
    409: "The deployment refuses it now (`code` says why: `checks-failing` with the failing checks, "
    "`deployment-deleted`, `challenger-limit`, `nothing-to-roll-back`, `change-request-pending`, ...), or the "
    "Idempotency-Key was used for another command (`idempotency-key-reused`)",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented error responses of a route, each with its body model."""
    return shared_errors(*statuses, model=ReplacementProblem, described=_DESCRIBED)
