"""Each validation check passing, warning (where it can) and failing, and the overall outcome."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.replacement.domain import checks
from services.replacement.domain.checks import CurrentModel
from services.replacement.domain.packages import Packages, PackageSpec
from services.replacement.domain.state import Challenger, Grant, ReplacementState
from services.replacement.domain.validation import validate, worst
from shared.contract.events.values import (
    DeploymentStatus,
    Feature,
    PrincipalType,
    Role,
    TargetType,
    ValidationCheck,
    ValidationStatus,
)
from shared.contract.messages import Actor
from shared.domain.testing import T0
from tests.unit.replacement.builders import CHAMPION, FEATURES, OWNER, D, catalog, spec

PASSING, WARNING, FAILING = ValidationStatus.PASSING, ValidationStatus.WARNING, ValidationStatus.FAILING
KNOWN = CurrentModel(ref=CHAMPION.ref, spec=CHAMPION)
"""The champion with its package registered: every check can compare."""
UNREGISTERED = CurrentModel(ref=CHAMPION.ref)
"""The champion known only from the deployment's events."""
Compare = Callable[[CurrentModel, PackageSpec], ValidationCheck]


def multiclass(model_package_id: str, classes: tuple[str, ...]) -> PackageSpec:
    return spec(model_package_id, target_type=TargetType.MULTICLASS, target_classes=classes)


MULTICLASS = CurrentModel(ref=multiclass("pkg-m", ("a", "b")).ref, spec=multiclass("pkg-m", ("a", "b")))

CASES: list[tuple[Compare, CurrentModel, PackageSpec, ValidationStatus, str]] = [
    (checks.target_name, KNOWN, spec("p"), PASSING, "predicts 'churn'"),
    (checks.target_name, KNOWN, spec("p", target_name=" Churn"), WARNING, "only in case or spaces"),
    (checks.target_name, KNOWN, spec("p", target_name="revenue"), FAILING, "deployment predicts 'churn'"),
    (checks.target_type, KNOWN, spec("p"), PASSING, "Binary"),
    (checks.target_type, KNOWN, spec("p", target_type=TargetType.REGRESSION), FAILING, "serves a Binary one"),
    (checks.target_classes, KNOWN, spec("p", target_classes=("yes", "no")), PASSING, "same classes: no, yes"),
    (checks.target_classes, MULTICLASS, multiclass("p", ("a", "b", "c")), WARNING, "adds classes c"),
    (checks.target_classes, MULTICLASS, multiclass("p", ("a",)), FAILING, "cannot predict b"),
    (checks.target_classes, KNOWN, spec("p", target_classes=("no", "yes", "maybe")), FAILING, "must match"),
    (checks.target_classes, KNOWN, spec("p", target_type=TargetType.REGRESSION), FAILING, "only one of the models"),
    (checks.feature_data_types, KNOWN, spec("p"), PASSING, "2 feature(s) in common"),
    (checks.feature_data_types, UNREGISTERED, spec("p"), WARNING, "not registered"),
    (
        checks.feature_data_types,
        KNOWN,
        spec("p", features=(Feature(name="age", type="Text"),)),
        FAILING,
        "age (Numeric now, Text new)",
    ),
    (checks.features, KNOWN, spec("p", features=FEATURES[:1]), PASSING, "needs no new features; 1 no longer used"),
    (
        checks.features,
        KNOWN,
        spec("p", features=(*FEATURES, Feature(name="tenure", type="Numeric"), Feature(name="zip", type="Text"))),
        WARNING,
        "did not: tenure, zip",
    ),
    (checks.features, UNREGISTERED, spec("p"), WARNING, "features not compared"),
    (
        checks.features,
        KNOWN,
        spec("p", features=(*FEATURES, Feature(name="churn", type="Categorical"))),
        FAILING,
        "the deployment's target, as an input",
    ),
    (checks.series_type, KNOWN, spec("p"), PASSING, "neither is a time-series model"),
    (
        checks.series_type,
        CurrentModel(ref=CHAMPION.ref, spec=spec("pkg-1", series_type="multiseries")),
        spec("p", series_type="multiseries"),
        PASSING,
        "both are multiseries",
    ),
    (checks.series_type, UNREGISTERED, spec("p"), WARNING, "series type not compared"),
    (checks.series_type, KNOWN, spec("p", series_type="single"), FAILING, "only the new model"),
    (
        checks.series_type,
        CurrentModel(ref=CHAMPION.ref, spec=spec("pkg-1", series_type="single")),
        spec("p", series_type="multiseries"),
        FAILING,
        "series type multiseries, but the current model is single",
    ),
    (checks.prediction_intervals, KNOWN, spec("p"), PASSING, "supports prediction intervals"),
    (
        checks.prediction_intervals,
        CurrentModel(ref=CHAMPION.ref, spec=spec("pkg-1", supports_prediction_intervals=False)),
        spec("p", supports_prediction_intervals=False),
        PASSING,
        "neither",
    ),
    (checks.prediction_intervals, KNOWN, spec("p", supports_prediction_intervals=False), WARNING, "fall back"),
]


@pytest.mark.parametrize(
    ("check", "current", "new", "status", "says"),
    CASES,
    ids=[f"{case[0].__name__}-{case[3]}-{index}" for index, case in enumerate(CASES)],
)
def test_compatibility_checks(
    check: Compare, current: CurrentModel, new: PackageSpec, status: ValidationStatus, says: str
) -> None:
    result = check(current, new)
    assert (result.status, says in result.message) == (status, True), result.message


def test_every_compatibility_check_has_a_passing_and_a_failing_case_and_warns_where_it_can() -> None:
    covered = {(case[0].__name__, case[3]) for case in CASES}
    never_warns = {"target_type"}
    never_fails = {"prediction_intervals"}
    for name in {case[0].__name__ for case in CASES}:
        expected = {PASSING, WARNING, FAILING} - ({WARNING} if name in never_warns else set())
        expected -= {FAILING} if name in never_fails else set()
        assert {status for check, status in covered if check == name} == expected, name


def deployment(status: DeploymentStatus | None = DeploymentStatus.ACTIVE, **changes: object) -> ReplacementState:
    values: dict[str, object] = {
        "deployment_id": D,
        "status": status,
        "champion": CHAMPION.ref,
        "grants": (
            Grant(principal="alice", role=Role.OWNER),
            Grant(principal="carol", role=Role.USER),
            Grant(principal="ml-team", principal_type=PrincipalType.GROUP, role=Role.OWNER),
            Grant(principal="dave", principal_type=PrincipalType.GROUP, role=Role.OWNER),
        ),
    }
    return ReplacementState.model_validate(values | changes)


WITH_CHALLENGER = deployment(challengers=(Challenger(id="ch-1", model_package=spec("pkg-2").ref, added_at=T0),))


@pytest.mark.parametrize(
    ("state", "package", "promoting", "status", "says"),
    [
        (WITH_CHALLENGER, "pkg-3", None, PASSING, "neither the current model nor a challenger"),
        (WITH_CHALLENGER, "pkg-1", None, FAILING, "pkg-1 is the current model"),
        (WITH_CHALLENGER, "pkg-2", None, FAILING, "is challenger ch-1: promote it instead"),
        (WITH_CHALLENGER, "pkg-2", "ch-1", PASSING, "neither"),
    ],
)
def test_not_current_model(
    state: ReplacementState, package: str, promoting: str | None, status: ValidationStatus, says: str
) -> None:
    result = checks.not_current_model(state, spec(package), promoting=promoting)
    assert (result.status, says in result.message) == (status, True), result.message


def test_package_ready() -> None:
    assert checks.package_ready(spec("p")).status is PASSING
    not_ready = checks.package_ready(spec("p", ready=False))
    assert (not_ready.status, not_ready.message) == (FAILING, "p is not ready to be deployed yet")


@pytest.mark.parametrize(
    ("actor", "status", "says"),
    [
        (OWNER, PASSING, "alice is an OWNER"),
        (Actor(user="erin", groups=("ml-team",)), PASSING, "erin is an OWNER"),
        (Actor(user="root", admin=True), PASSING, "root is an admin"),
        (Actor(user="carol"), FAILING, "carol has role USER on deployment d-1; replacing the model needs OWNER"),
        (Actor(user="mallory"), FAILING, "mallory has no role"),
        (Actor(user="dave"), FAILING, "dave has no role"),  # a group's name is not a user's
    ],
)
def test_permission_is_owner_by_user_or_group(actor: Actor, status: ValidationStatus, says: str) -> None:
    result = checks.permission(deployment(), actor)
    assert (result.status, says in result.message) == (status, True), result.message


@pytest.mark.parametrize(
    ("status", "expected", "says"),
    [
        (DeploymentStatus.ACTIVE, PASSING, "is active"),
        (DeploymentStatus.INACTIVE, WARNING, "serves once it is activated"),
        (DeploymentStatus.LAUNCHING, WARNING, "still launching"),
        (DeploymentStatus.ERRORED, WARNING, "errored"),
        (DeploymentStatus.DELETED, FAILING, "is deleted: its model cannot change"),
        (DeploymentStatus.ERASED, FAILING, "is erased"),
        (None, FAILING, "knows no deployment d-1"),
    ],
)
def test_deployment_state(status: DeploymentStatus | None, expected: ValidationStatus, says: str) -> None:
    result = checks.deployment_state(deployment(status))
    assert (result.status, says in result.message) == (expected, True), result.message


@pytest.mark.parametrize(
    ("statuses", "overall"),
    [
        ([], PASSING),
        ([PASSING, PASSING], PASSING),
        ([PASSING, WARNING, PASSING], WARNING),
        ([WARNING, FAILING, PASSING], FAILING),
        ([FAILING, WARNING], FAILING),
    ],
)
def test_the_outcome_is_the_worst_check(statuses: list[ValidationStatus], overall: ValidationStatus) -> None:
    assert worst(statuses) is overall


def test_validate_runs_every_check_in_a_stable_order_and_summarises_the_failing_ones() -> None:
    new = spec("pkg-2", target_name="revenue", features=(*FEATURES, Feature(name="tenure", type="Numeric")))
    validation = validate(deployment(), new, Actor(user="carol"), catalog(new))
    assert list(validation.checks) == [
        "target_name",
        "target_type",
        "target_classes",
        "feature_data_types",
        "features",
        "series_type",
        "prediction_intervals",
        "not_current_model",
        "package_ready",
        "permission",
        "deployment_state",
    ]
    assert validation.status is FAILING
    assert validation.failing == ("target_name", "permission")
    assert validation.checks["features"].status is WARNING
    assert validation.summary().startswith("target_name: predicts 'revenue', but the deployment predicts 'churn'; ")
    assert (validation.model_package_id, validation.previous_model_package_id) == ("pkg-2", "pkg-1")


def test_validate_against_an_unregistered_champion_warns_instead_of_guessing() -> None:
    validation = validate(deployment(), spec("pkg-2"), OWNER, Packages.of([spec("pkg-2")]))
    warned = {name for name, check in validation.checks.items() if check.status is WARNING}
    assert warned == {"feature_data_types", "features", "series_type"}
    assert validation.status is WARNING
