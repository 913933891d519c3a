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


class ModelReplaced(ModelEvent):
    type_name: ClassVar[str] = "ModelReplaced"

    previous_model_package_id: str | None = None
    model_package: ModelPackageRef
    reason: ReplacementReason
    validation_status: ValidationStatus | None = None


class ModelReplacementRejected(ModelEvent):
    type_name: ClassVar[str] = "ModelReplacementRejected"

    model_package_id: str
    reason: str
    checks: dict[str, ValidationCheck] = Field(default_factory=dict)


class ChallengerAdded(ModelEvent):
    type_name: ClassVar[str] = "ChallengerAdded"

    challenger_id: str
    model_package: ModelPackageRef
    prediction_environment_id: str | None = None


class ChallengerRemoved(ModelEvent):
    type_name: ClassVar[str] = "ChallengerRemoved"

    challenger_id: str
