"""What the actions API reads and writes: request bodies (unknown fields refused, every string bounded)
and the change requests it shows. The commands themselves are the contract's (shared.contract.commands)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from services.actions.domain.state import ChangeRequest, ChangeRequestStatus
from services.actions.entrypoints.api_values import (
    Body,
    Comment,
    Description,
    Id,
    Instant,
    Label,
    ModelPackageIn,
    PredictionEnvironmentIn,
    Principal,
    Reason,
    TagIn,
)
from shared.contract.events.values import Importance, PrincipalType, Role
from shared.service.problems import errors as shared_errors

DEPLOYMENT_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
CHANGE_REQUEST_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


class RegisterDeploymentBody(Body):
    """A deployment no serving platform announced."""

    id: str | None = Field(
        default=None,
        pattern=DEPLOYMENT_ID,
        description="The deployment id; generated (and the same for a repeated Idempotency-Key) when absent",
    )
    label: Label
    description: Description = ""
    importance: Importance = Importance.MODERATE
    model_package: ModelPackageIn
    prediction_environment: PredictionEnvironmentIn
    owners: list[Principal] = Field(default_factory=list, max_length=100, description="OWNERs besides you")
    tags: list[TagIn] = Field(default_factory=list, max_length=100)


class NoFields(Body):
    """Nothing to say (the body may be left out)."""


class ReasonBody(Body):
    reason: Reason = ""


class ImportanceBody(Body):
    importance: Importance
    reason: Reason = ""


class SettingsBody(Body):
    """At least one of label, description and tags; a field left out is unchanged."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    label: Label | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    tags: Annotated[list[TagIn], Field(max_length=100, description="Replaces every tag")] | SkipJsonSchema[None] = None

    @field_validator("label", "description", "tags", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave the field out to keep it as it is")
        return value


class ShareBody(Body):
    principal: Principal
    principal_type: Literal[PrincipalType.USER, PrincipalType.GROUP] = PrincipalType.USER
    role: Role


class RevokeBody(Body):
    principal: Principal


class ClearStatisticsBody(Body):
    """For all time when neither `start` nor `end` is given; `start` must be before `end`."""

    start: Instant | None = None
    end: Instant | None = None
    model_package_id: Id | None = None


class ReviewBody(Body):
    comment: Comment = ""


class ChangeRequestOut(BaseModel):
    """A held command and what became of it."""

    id: str
    action: str = Field(description="The held command's type, e.g. DeactivateDeployment")
    changes: dict[str, Any] = Field(description="What the held command asks for (its fields)")
    status: ChangeRequestStatus
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    reason: str
    closed_by: str | None
    closed_at: datetime | None
    comment: str

    @classmethod
    def of(cls, request: ChangeRequest) -> ChangeRequestOut:
        envelope_fields = {"command_id", "deployment_id", "actor"}
        return cls(
            **request.model_dump(include=set(cls.model_fields) - {"changes"}),
            changes={k: v for k, v in request.command.items() if k not in envelope_fields},
        )


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented error responses of a route, each with its body model."""
    described = {
        400: "A malformed Idempotency-Key",
        401: "No known bearer token",
        403: "Your role on the deployment does not allow this (`code` forbidden, self-approval, not-requester)",
        404: "No such deployment or change request",
        409: "The deployment's state refuses it now (`code` says why), or the Idempotency-Key was used for "
        "another command",
    }
    return shared_errors(*statuses, described=described)
