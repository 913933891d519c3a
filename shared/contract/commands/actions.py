"""Commands the actions service owns, on its command stream (`<namespace>.actions-commands`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.contract.events.values import Importance, ModelPackageRef, PredictionEnvironment, Tag
from shared.contract.messages import Command
from shared.contract.topology import Stream


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
    owners: tuple[str, ...] = Field(default=(), description="Principals with OWNER besides the actor")
    tags: tuple[Tag, ...] = ()
