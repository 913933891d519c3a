"""Lifecycle facts about a deployment: the log of record, on the deployment stream."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime, Field

from shared.contract.events.values import (
    DeploymentStatus,
    Importance,
    ModelPackageRef,
    PredictionEnvironment,
    PrincipalType,
    Role,
    Tag,
)
from shared.contract.messages import Event
from shared.contract.topology import Stream


class DeploymentEvent(Event):
    stream: ClassVar[Stream] = Stream.DEPLOYMENT


class DeploymentCreated(DeploymentEvent):
    """A serving platform created a deployment that serves `model_package`."""

    type_name: ClassVar[str] = "DeploymentCreated"

    label: str = Field(min_length=1, max_length=512)
    description: str = Field(default="", max_length=10_000)
    importance: Importance = Importance.MODERATE
    status: DeploymentStatus = DeploymentStatus.ACTIVE
    model_package: ModelPackageRef
    prediction_environment: PredictionEnvironment
    created_by: str = Field(min_length=1)
    owners: tuple[str, ...] = Field(default=(), description="Principals with OWNER besides the creator")
    tags: tuple[Tag, ...] = ()
    created_at: AwareDatetime | None = Field(default=None, description="Defaults to the event time")


class DeploymentActivated(DeploymentEvent):
    type_name: ClassVar[str] = "DeploymentActivated"


class DeploymentDeactivated(DeploymentEvent):
    type_name: ClassVar[str] = "DeploymentDeactivated"


class DeploymentErrored(DeploymentEvent):
    """The serving platform reports that the deployment cannot serve."""

    type_name: ClassVar[str] = "DeploymentErrored"

    message: str = ""


class DeploymentDeleted(DeploymentEvent):
    """Soft delete: the deployment leaves the inventory; only erasure may follow."""

    type_name: ClassVar[str] = "DeploymentDeleted"


class DeploymentErased(DeploymentEvent):
    """Permanent erasure of a deleted deployment (an admin action)."""

    type_name: ClassVar[str] = "DeploymentErased"


class DeploymentImportanceChanged(DeploymentEvent):
    type_name: ClassVar[str] = "DeploymentImportanceChanged"

    importance: Importance


class DeploymentSettingsChanged(DeploymentEvent):
    """Label, description or tags changed; a field left out is unchanged."""

    type_name: ClassVar[str] = "DeploymentSettingsChanged"

    label: str | None = Field(default=None, min_length=1, max_length=512)
    description: str | None = Field(default=None, max_length=10_000)
    tags: tuple[Tag, ...] | None = None


class DeploymentShared(DeploymentEvent):
    """A principal was granted a role on the deployment (replacing any role it had)."""

    type_name: ClassVar[str] = "DeploymentShared"

    principal: str = Field(min_length=1)
    principal_type: PrincipalType = PrincipalType.USER
    role: Role


class DeploymentAccessRevoked(DeploymentEvent):
    type_name: ClassVar[str] = "DeploymentAccessRevoked"

    principal: str = Field(min_length=1)


class DeploymentStatisticsCleared(DeploymentEvent):
    """Monitoring statistics were reset, for all time or for [start, end), optionally for one model."""

    type_name: ClassVar[str] = "DeploymentStatisticsCleared"

    model_package_id: str | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
