"""Packages, deployments and commands for the replacement domain's tests.

The champion of every deployment here is `pkg-1`: a binary churn model (classes no/yes) with two
features (age Numeric, plan Categorical), prediction intervals, not time series. `spec(id, **changes)`
builds any other package from it, so a test says only what differs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.replacement.domain.decider import decider_for
from services.replacement.domain.packages import Packages, PackageSpec
from services.replacement.domain.policy import Policy
from services.replacement.domain.state import ReplacementState
from shared.contract import events as ev
from shared.contract.commands.replacement import (
    AddChallenger,
    PromoteChallenger,
    RemoveChallenger,
    ReplaceModel,
    RollbackModel,
    ValidateReplacement,
)
from shared.contract.events.values import (
    Feature,
    Importance,
    Platform,
    PredictionEnvironment,
    ReplacementReason,
    TargetType,
)
from shared.contract.messages import Actor, Event
from shared.domain.decider import Decider, Rejection
from shared.domain.recorded import Recorded
from shared.domain.testing import T0, When

D = "d-1"
OWNER = Actor(user="alice")
ENVIRONMENT = PredictionEnvironment(id="env-1", name="prod", platform=Platform.AWS)
FEATURES = (Feature(name="age", type="Numeric"), Feature(name="plan", type="Categorical"))


def registered(model_package_id: str, **changes: Any) -> ev.ModelPackageRegistered:
    values: dict[str, Any] = {
        "model_package_id": model_package_id,
        "name": f"churn {model_package_id}",
        "registered_model_id": "rm-churn",
        "target_name": "churn",
        "target_type": TargetType.BINARY,
        "target_classes": ("no", "yes"),
        "features": FEATURES,
        "supports_prediction_intervals": True,
    }
    return ev.ModelPackageRegistered(**(values | changes))


def spec(model_package_id: str, **changes: Any) -> PackageSpec:
    event = Recorded(message=registered(model_package_id, **changes), id=f"reg-{model_package_id}", time=T0, subject="")
    return PackageSpec.of(event)


CHAMPION = spec("pkg-1")


def catalog(*specs: PackageSpec) -> Packages:
    """The champion's package, plus `specs`."""
    return Packages.of((CHAMPION, *specs))


def decider(*specs: PackageSpec, policy: Policy | None = None) -> Decider[ReplacementState, Any]:
    return decider_for(policy or Policy(), catalog(*specs))


def created(**changes: Any) -> ev.DeploymentCreated:
    values: dict[str, Any] = {
        "deployment_id": D,
        "label": "Churn",
        "importance": Importance.MODERATE,
        "model_package": CHAMPION.ref,
        "prediction_environment": ENVIRONMENT,
        "created_by": "alice",
        "owners": ("bob",),
        "created_at": T0,
    }
    return ev.DeploymentCreated(**(values | changes))


def replaced(package: PackageSpec, previous: str = "pkg-1", **changes: Any) -> ev.ModelReplaced:
    values: dict[str, Any] = {
        "deployment_id": D,
        "previous_model_package_id": previous,
        "model_package": package.ref,
        "reason": ReplacementReason.ACCURACY,
    }
    return ev.ModelReplaced(**(values | changes))


def challenger_added(challenger_id: str, package: PackageSpec) -> ev.ChallengerAdded:
    return ev.ChallengerAdded(deployment_id=D, challenger_id=challenger_id, model_package=package.ref)


def validate(package_id: str, actor: Actor = OWNER) -> ValidateReplacement:
    return ValidateReplacement(command_id="c-validate", deployment_id=D, actor=actor, model_package_id=package_id)


def replace(package_id: str, actor: Actor = OWNER, command_id: str = "c-replace", **changes: Any) -> ReplaceModel:
    values: dict[str, Any] = {"reason": ReplacementReason.DATA_DRIFT}
    return ReplaceModel(
        command_id=command_id, deployment_id=D, actor=actor, model_package_id=package_id, **(values | changes)
    )


def rollback(actor: Actor = OWNER, command_id: str = "c-rollback") -> RollbackModel:
    return RollbackModel(command_id=command_id, deployment_id=D, actor=actor, reason=ReplacementReason.ERRORS)


def add(package_id: str, actor: Actor = OWNER, command_id: str = "c-add") -> AddChallenger:
    return AddChallenger(command_id=command_id, deployment_id=D, actor=actor, model_package_id=package_id)


def remove(actor: Actor = OWNER, **named: str) -> RemoveChallenger:
    return RemoveChallenger(command_id="c-remove", deployment_id=D, actor=actor, **named)


def promote(challenger_id: str, actor: Actor = OWNER) -> PromoteChallenger:
    return PromoteChallenger(
        command_id="c-promote",
        deployment_id=D,
        actor=actor,
        challenger_id=challenger_id,
        reason=ReplacementReason.ACCURACY,
    )


def decided(when: When[Any, Any]) -> list[Event]:
    """The events a command ended in (failing the test on a rejection)."""
    assert not isinstance(when.decision, Rejection), f"rejected: {when.decision.code}: {when.decision.reason}"
    return list(when.decision)


def accepted(when: When[Any, Any]) -> ReplacementState:
    """The state after whatever events the command ended in."""
    state: ReplacementState = when.then(*decided(when))
    return state


LATER = timedelta(days=8)
