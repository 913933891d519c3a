"""Model packages, replacement and challengers."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.contract.events.values import (
    Feature,
    ModelPackageRef,
    ReplacementReason,
    TargetType,
    ValidationCheck,
    ValidationStatus,
)
from shared.contract.messages import Event, Message
from shared.contract.topology import Stream


class ModelPackageRegistered(Message):
    """A model registry made a model package available for deployment (keyed by the package)."""

    type_name: ClassVar[str] = "ModelPackageRegistered"
    stream: ClassVar[Stream] = Stream.REGISTRY
    subject_field: ClassVar[str] = "model_package_id"

    model_package_id: str
    name: str
    registered_model_id: str | None = None
    target_name: str
    target_type: TargetType
    target_classes: tuple[str, ...] = ()
    features: tuple[Feature, ...] = ()
    build_environment: str = "Python"
    series_type: str | None = Field(default=None, description="Time-series kind, None when not time series")
    supports_prediction_intervals: bool = False
    ready: bool = True


class ModelEvent(Event):
    stream: ClassVar[Stream] = Stream.DEPLOYMENT


class ModelReplacementValidated(ModelEvent):
    """The outcome of checking a package against the deployment, kept for auditors."""

    type_name: ClassVar[str] = "ModelReplacementValidated"

    model_package_id: str
    status: ValidationStatus
    checks: dict[str, ValidationCheck] = Field(default_factory=dict)
    previous_model_package_id: str | None = Field(default=None, description="The champion it was checked against")
    actor: str | None = Field(default=None, description="Who asked for the dry run")


class ModelReplaced(ModelEvent):
    """The deployment's champion changed: a replacement, a rollback or a promoted challenger."""

    type_name: ClassVar[str] = "ModelReplaced"

    previous_model_package_id: str | None = None
    model_package: ModelPackageRef
    reason: ReplacementReason
    validation_status: ValidationStatus | None = None
    checks: dict[str, ValidationCheck] = Field(default_factory=dict, description="The checks it passed, by name")
    actor: str | None = Field(default=None, description="Who replaced the model")
    note: str = ""
    rollback: bool = Field(default=False, description="Back to the champion before the previous one")
    challenger_id: str | None = Field(default=None, description="The challenger promoted, if one was")
    change_request_id: str | None = Field(default=None, description="The approved change request it ran under")


class ModelReplacementRejected(ModelEvent):
    """A replacement, rollback or promotion refused because a check failed; nothing changed."""

    type_name: ClassVar[str] = "ModelReplacementRejected"

    model_package_id: str
    reason: str = Field(description="Why, for people: the failing checks and their messages")
    checks: dict[str, ValidationCheck] = Field(default_factory=dict)
    previous_model_package_id: str | None = Field(default=None, description="The champion, which stays")
    replacement_reason: ReplacementReason | None = Field(default=None, description="The reason the caller gave")
    actor: str | None = None
    rollback: bool = False
    challenger_id: str | None = None
    change_request_id: str | None = None


class ChallengerAdded(ModelEvent):
    type_name: ClassVar[str] = "ChallengerAdded"

    challenger_id: str
    model_package: ModelPackageRef
    prediction_environment_id: str | None = None
    validation_status: ValidationStatus | None = None
    checks: dict[str, ValidationCheck] = Field(default_factory=dict)
    actor: str | None = None


class ChallengerRemoved(ModelEvent):
    type_name: ClassVar[str] = "ChallengerRemoved"

    challenger_id: str
    model_package_id: str | None = None
    actor: str | None = None
    promoted: bool = Field(default=False, description="It left because it became the champion")
