"""The validation checks, one pure function each, every one returning `{status, message}`.

Compatibility checks compare the candidate package with the current model. The current model is known
at least by its `ModelPackageRef` (target name, type, classes: every deploy and replacement event
carries it); its features, series type and interval support only if its package was registered with
this service (`CurrentModel.spec`). When they are unknown, the checks that need them warn rather than
guess. Which checks can warn or fail:

    target_name           warning: differs only in case or surrounding spaces; failing: another target
    target_type           failing: another type (never warns)
    target_classes        warning: a multiclass/multilabel model adds classes; failing: drops one, or a
                          binary model's classes differ, or only one side is a classification model
    feature_data_types    warning: current features unknown; failing: a shared feature changes type
    features              warning: features the current model did not need (named), or current unknown;
                          failing: the new model needs the deployment's target as an input
    series_type           warning: current unknown; failing: time series on one side only, or another kind
    prediction_intervals  warning: the new model lacks them (they fall back to disabled); never fails
    not_current_model     failing: the champion, or one of its challengers (never warns)
    package_ready         failing: not ready (never warns)
    permission            failing: neither OWNER (by user or group) nor admin (never warns)
    deployment_state      warning: inactive, launching or errored; failing: deleted, erased or unknown
"""

from __future__ import annotations

import dataclasses

from services.replacement.domain.packages import PackageSpec
from services.replacement.domain.state import ReplacementState
from shared.contract.events.values import (
    DeploymentStatus,
    ModelPackageRef,
    Role,
    TargetType,
    ValidationCheck,
    ValidationStatus,
)
from shared.contract.messages import Actor
from shared.domain.roles import role_of

PASSING, WARNING, FAILING = ValidationStatus.PASSING, ValidationStatus.WARNING, ValidationStatus.FAILING
CLASSIFICATION = frozenset({TargetType.BINARY, TargetType.MULTICLASS, TargetType.MULTILABEL})
_UNKNOWN = "the current model's package {id} is not registered with the replacement service: {what} not compared"


@dataclasses.dataclass(frozen=True, slots=True)
class CurrentModel:
    """The champion: its reference from the deployment's events, and its catalog entry when known."""

    ref: ModelPackageRef
    spec: PackageSpec | None = None


def _check(status: ValidationStatus, message: str) -> ValidationCheck:
    return ValidationCheck(status=status, message=message)


def _names(items: list[str] | set[str]) -> str:
    return ", ".join(sorted(items))


def target_name(current: CurrentModel, new: PackageSpec) -> ValidationCheck:
    old, candidate = current.ref.target_name, new.target_name
    if candidate == old:
        return _check(PASSING, f"predicts {old!r}, as the current model does")
    if candidate.strip().casefold() == old.strip().casefold():
        return _check(WARNING, f"predicts {candidate!r}, the current model {old!r}: they differ only in case or spaces")
    return _check(FAILING, f"predicts {candidate!r}, but the deployment predicts {old!r}")


def target_type(current: CurrentModel, new: PackageSpec) -> ValidationCheck:
    if new.target_type is current.ref.target_type:
        return _check(PASSING, f"a {new.target_type} model, as the current one")
    return _check(FAILING, f"a {new.target_type} model, but the deployment serves a {current.ref.target_type} one")


def target_classes(current: CurrentModel, new: PackageSpec) -> ValidationCheck:
    old_type, new_type = current.ref.target_type, new.target_type
    if old_type not in CLASSIFICATION and new_type not in CLASSIFICATION:
        return _check(PASSING, "no classes to compare: neither is a classification model")
    if (old_type in CLASSIFICATION) != (new_type in CLASSIFICATION):
        return _check(FAILING, f"only one of the models predicts classes ({old_type} now, {new_type} new)")
    old, candidate = set(current.ref.target_classes), set(new.target_classes)
    if not old:
        return _check(WARNING, "the current model's classes are not recorded: not compared")
    if missing := old - candidate:
        return _check(FAILING, f"cannot predict {_names(missing)}, which the current model predicts")
    if added := candidate - old:
        if new_type is TargetType.BINARY:
            return _check(FAILING, f"a binary model's classes must match: {_names(candidate)} vs {_names(old)}")
        return _check(WARNING, f"adds classes {_names(added)}: their monitoring starts without history")
    return _check(PASSING, f"predicts the same classes: {_names(old)}")


def feature_data_types(current: CurrentModel, new: PackageSpec) -> ValidationCheck:
    if current.spec is None:
        return _check(WARNING, _UNKNOWN.format(id=current.ref.id, what="feature types"))
    old = {feature.name: feature.type for feature in current.spec.features}
    changed = [
        f"{f.name} ({old[f.name]} now, {f.type} new)"
        for f in new.features
        if f.name in old and f.type.casefold() != old[f.name].casefold()
    ]
    if changed:
        return _check(FAILING, f"features change type: {', '.join(changed)}")
    shared = sum(1 for f in new.features if f.name in old)
    return _check(PASSING, f"{shared} feature(s) in common, all of the same type")


def features(current: CurrentModel, new: PackageSpec) -> ValidationCheck:
    needed = [f.name for f in new.features]
    if current.ref.target_name in needed:
        return _check(
            FAILING,
            f"needs {current.ref.target_name!r}, the deployment's target, as an input: prediction requests lack it",
        )
    if current.spec is None:
        return _check(WARNING, _UNKNOWN.format(id=current.ref.id, what="features"))
    old = {f.name for f in current.spec.features}
    if added := [name for name in needed if name not in old]:
        return _check(WARNING, f"needs features the current model did not: {', '.join(added)}")
    dropped = len(old - set(needed))
    return _check(PASSING, "needs no new features" + (f"; {dropped} no longer used" if dropped else ""))


def series_type(current: CurrentModel, new: PackageSpec) -> ValidationCheck:
    if current.spec is None:
        return _check(WARNING, _UNKNOWN.format(id=current.ref.id, what="series type"))
    old, candidate = current.spec.series_type, new.series_type
    if old == candidate:
        return _check(PASSING, f"both are {old} time-series models" if old else "neither is a time-series model")
    if old is None or candidate is None:
        which = "the current" if old else "the new"
        return _check(FAILING, f"only {which} model is a time-series model ({old or candidate})")
    return _check(FAILING, f"series type {candidate}, but the current model is {old}")


def prediction_intervals(current: CurrentModel, new: PackageSpec) -> ValidationCheck:
    if new.supports_prediction_intervals:
        return _check(PASSING, "supports prediction intervals")
    if current.spec is not None and not current.spec.supports_prediction_intervals:
        return _check(PASSING, "neither model supports prediction intervals")
    return _check(WARNING, "does not support prediction intervals: they fall back to disabled")


def not_current_model(state: ReplacementState, new: PackageSpec, *, promoting: str | None = None) -> ValidationCheck:
    """`promoting`: the challenger being promoted, whose own package is of course allowed."""
    if state.champion is not None and state.champion.id == new.id:
        return _check(FAILING, f"{new.id} is the current model")
    challenger = state.challenger_of_package(new.id)
    if challenger is not None and challenger.id != promoting:
        return _check(FAILING, f"{new.id} is challenger {challenger.id}: promote it instead")
    return _check(PASSING, f"{new.id} is neither the current model nor a challenger")


def package_ready(new: PackageSpec) -> ValidationCheck:
    if new.ready:
        return _check(PASSING, f"{new.id} is ready to serve")
    return _check(FAILING, f"{new.id} is not ready to be deployed yet")


def permission(state: ReplacementState, actor: Actor, *, what: str = "replacing the model") -> ValidationCheck:
    if actor.admin:
        return _check(PASSING, f"{actor.user} is an admin")
    role = role_of(state, actor)
    if role is Role.OWNER:
        return _check(PASSING, f"{actor.user} is an OWNER")
    has = f"has role {role}" if role else "has no role"
    return _check(FAILING, f"{actor.user} {has} on deployment {state.deployment_id}; {what} needs OWNER")


_STATE_WARNINGS = {
    DeploymentStatus.INACTIVE: "is inactive: the new model serves once it is activated",
    DeploymentStatus.LAUNCHING: "is still launching",
    DeploymentStatus.ERRORED: "is errored: the new model serves once the platform recovers it",
}


def deployment_state(state: ReplacementState) -> ValidationCheck:
    status = state.status
    if status is None:
        return _check(FAILING, f"the replacement service knows no deployment {state.deployment_id}")
    if status in (DeploymentStatus.DELETED, DeploymentStatus.ERASED):
        return _check(FAILING, f"deployment {state.deployment_id} is {status}: its model cannot change")
    if status in _STATE_WARNINGS:
        return _check(WARNING, f"deployment {state.deployment_id} {_STATE_WARNINGS[status]}")
    return _check(PASSING, f"deployment {state.deployment_id} is {status}")
