"""A package checked against a deployment: every check, and the outcome, the worst of them.

`dry_run` is what the synchronous validation route calls (pure, like `decide`): the handler's store
gives it the deployment's state and the packages, and it answers a `Validation` or why it cannot.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from services.replacement.domain import checks, codes
from services.replacement.domain.packages import Packages, PackageSpec
from services.replacement.domain.state import ReplacementState
from shared.contract.events.values import DeploymentStatus, ValidationCheck, ValidationStatus
from shared.contract.messages import Actor
from shared.domain.decider import Rejection

_RANK = {ValidationStatus.PASSING: 0, ValidationStatus.WARNING: 1, ValidationStatus.FAILING: 2}


def worst(statuses: Iterable[ValidationStatus]) -> ValidationStatus:
    """The overall outcome: failing if any check fails, else warning if any warns, else passing."""
    return max(statuses, key=_RANK.__getitem__, default=ValidationStatus.PASSING)


@dataclasses.dataclass(frozen=True)
class Validation:
    model_package_id: str
    previous_model_package_id: str | None
    checks: Mapping[str, ValidationCheck]
    """By check name, in a stable order (the order of `validate`)."""

    @property
    def status(self) -> ValidationStatus:
        return worst(check.status for check in self.checks.values())

    @property
    def failing(self) -> tuple[str, ...]:
        return tuple(name for name, check in self.checks.items() if check.status is ValidationStatus.FAILING)

    def as_dict(self) -> dict[str, ValidationCheck]:
        return dict(self.checks)

    def summary(self) -> str:
        """The failing checks and their messages, for people (e.g. a rejection's reason)."""
        failing = [f"{name}: {self.checks[name].message}" for name in self.failing]
        return "; ".join(failing) if failing else f"{self.status}: no check fails"


def validate(
    state: ReplacementState,
    new: PackageSpec,
    actor: Actor,
    packages: Packages,
    *,
    promoting: str | None = None,
    what: str = "replacing the model",
) -> Validation:
    """Every check of `new` against the deployment's champion; `state` must be of an existing deployment."""
    if state.champion is None:
        raise ValueError(f"deployment {state.deployment_id} has no champion to validate against")
    current = checks.CurrentModel(ref=state.champion, spec=packages.get(state.champion.id))
    results = {
        "target_name": checks.target_name(current, new),
        "target_type": checks.target_type(current, new),
        "target_classes": checks.target_classes(current, new),
        "feature_data_types": checks.feature_data_types(current, new),
        "features": checks.features(current, new),
        "series_type": checks.series_type(current, new),
        "prediction_intervals": checks.prediction_intervals(current, new),
        "not_current_model": checks.not_current_model(state, new, promoting=promoting),
        "package_ready": checks.package_ready(new),
        "permission": checks.permission(state, actor, what=what),
        "deployment_state": checks.deployment_state(state),
    }
    return Validation(model_package_id=new.id, previous_model_package_id=state.champion.id, checks=results)


def unknown_or_erased(state: ReplacementState) -> Rejection | None:
    """Deployments nothing can be validated against: never seen, or erased (a tombstone takes no events)."""
    if not state.exists:
        return Rejection(codes.NOT_FOUND, f"the replacement service knows no deployment {state.deployment_id}")
    if state.status is DeploymentStatus.ERASED:
        return Rejection(codes.DEPLOYMENT_ERASED, f"deployment {state.deployment_id} is erased")
    return None


def known_package(packages: Packages, model_package_id: str) -> PackageSpec | Rejection:
    spec = packages.get(model_package_id)
    if spec is None:
        return Rejection(
            codes.PACKAGE_UNKNOWN,
            f"model package {model_package_id} is not registered with the replacement service "
            "(no ModelPackageRegistered seen yet): register it, then try again",
        )
    return spec


def dry_run(state: ReplacementState, model_package_id: str, actor: Actor, packages: Packages) -> Validation | Rejection:
    """Validate a replacement without making it: the synchronous HTTP answer."""
    if (refused := unknown_or_erased(state)) is not None:
        return refused
    spec = known_package(packages, model_package_id)
    if isinstance(spec, Rejection):
        return spec
    return validate(state, spec, actor, packages)
