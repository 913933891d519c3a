"""Validate, replace and roll back, decided against a deployment's history (given / when / then)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.replacement.domain.state import ModelAction
from shared.contract import events as ev
from shared.contract.events.values import (
    DeploymentStatus,
    Feature,
    PrincipalType,
    ReplacementReason,
    Role,
    TargetType,
    ValidationCheck,
    ValidationStatus,
)
from shared.contract.messages import Actor
from shared.domain.testing import T0, given
from tests.unit.replacement.builders import (
    CHAMPION,
    FEATURES,
    D,
    accepted,
    challenger_added,
    created,
    decided,
    decider,
    replace,
    replaced,
    rollback,
    spec,
    validate,
)

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PASSING, WARNING, FAILING = ValidationStatus.PASSING, ValidationStatus.WARNING, ValidationStatus.FAILING
COMPATIBLE = spec("pkg-2")
TENURE = Feature(name="tenure", type="Numeric")
NEEDS_TENURE = spec("pkg-3", features=(*FEATURES, TENURE))
REGRESSION = spec("pkg-9", target_type=TargetType.REGRESSION)


def passing(message: str) -> ValidationCheck:
    return ValidationCheck(status=PASSING, message=message)


def test_a_compatible_replacement_passes_every_check_and_changes_the_champion() -> None:
    command = replace("pkg-2", note="retrained on March data")
    state = (
        given(decider(COMPATIBLE), created())
        .when(command, now=NOW)
        .then(
            ev.ModelReplaced(
                deployment_id=D,
                previous_model_package_id="pkg-1",
                model_package=COMPATIBLE.ref,
                reason=ReplacementReason.DATA_DRIFT,
                validation_status=PASSING,
                checks={
                    "target_name": passing("predicts 'churn', as the current model does"),
                    "target_type": passing("a Binary model, as the current one"),
                    "target_classes": passing("predicts the same classes: no, yes"),
                    "feature_data_types": passing("2 feature(s) in common, all of the same type"),
                    "features": passing("needs no new features"),
                    "series_type": passing("neither is a time-series model"),
                    "prediction_intervals": passing("supports prediction intervals"),
                    "not_current_model": passing("pkg-2 is neither the current model nor a challenger"),
                    "package_ready": passing("pkg-2 is ready to serve"),
                    "permission": passing("alice is an OWNER"),
                    "deployment_state": passing("deployment d-1 is active"),
                },
                actor="alice",
                note="retrained on March data",
            )
        )
    )
    assert state.champion == COMPATIBLE.ref
    deployed, current = state.history
    assert (deployed.action, deployed.model_package.id, deployed.started_at, deployed.ended_at) == (
        ModelAction.DEPLOYED,
        "pkg-1",
        T0,
        NOW,
    )
    assert (current.action, current.model_package.id, current.reason, current.actor) == (
        ModelAction.REPLACED,
        "pkg-2",
        ReplacementReason.DATA_DRIFT,
        "alice",
    )
    assert (current.started_at, current.ended_at, current.validation_status) == (NOW, None, PASSING)
    assert current.note == "retrained on March data"
    assert current.checks["permission"] == passing("alice is an OWNER")


def test_a_replacement_with_only_warnings_proceeds_and_records_them() -> None:
    (event,) = decided(given(decider(NEEDS_TENURE), created()).when(replace("pkg-3")))
    assert isinstance(event, ev.ModelReplaced)
    assert event.validation_status is WARNING
    assert event.checks["features"] == ValidationCheck(
        status=WARNING, message="needs features the current model did not: tenure"
    )


def test_a_failing_replacement_is_rejected_with_its_checks_and_changes_nothing() -> None:
    when = given(decider(REGRESSION), created()).when(replace("pkg-9"))
    (event,) = decided(when)
    assert isinstance(event, ev.ModelReplacementRejected)
    assert (event.model_package_id, event.previous_model_package_id, event.actor) == ("pkg-9", "pkg-1", "alice")
    assert event.replacement_reason is ReplacementReason.DATA_DRIFT
    assert event.checks["target_type"].status is FAILING
    assert event.reason.startswith("target_type: a Regression model, but the deployment serves a Binary one")
    assert accepted(when) == when.before


def test_every_failing_check_alone_refuses_the_replacement() -> None:
    failing_packages = {
        "target_name": spec("f1", target_name="revenue"),
        "target_type": spec("f2", target_type=TargetType.MULTICLASS),
        "target_classes": spec("f3", target_classes=("no", "si")),
        "feature_data_types": spec("f4", features=(Feature(name="age", type="Text"),)),
        "features": spec("f5", features=(*FEATURES, Feature(name="churn", type="Text"))),
        "series_type": spec("f6", series_type="single"),
        "package_ready": spec("f7", ready=False),
    }
    for check, package in failing_packages.items():
        (event,) = decided(given(decider(package), created()).when(replace(package.id)))
        assert isinstance(event, ev.ModelReplacementRejected), check
        failing = {name for name, result in event.checks.items() if result.status is FAILING}
        assert check in failing, (check, event.checks)
    (event,) = decided(given(decider(), created()).when(replace("pkg-1")))
    assert isinstance(event, ev.ModelReplacementRejected)
    assert event.checks["not_current_model"].status is FAILING


def test_only_owners_replace_directly_or_through_a_group_and_admins_too() -> None:
    shared = ev.DeploymentShared(deployment_id=D, principal="carol", role=Role.USER)
    team = ev.DeploymentShared(deployment_id=D, principal="ml", principal_type=PrincipalType.GROUP, role=Role.OWNER)
    history = given(decider(COMPATIBLE), created(), shared, team)
    (refused,) = decided(history.when(replace("pkg-2", actor=Actor(user="carol"))))
    assert isinstance(refused, ev.ModelReplacementRejected)
    assert refused.reason == "permission: carol has role USER on deployment d-1; replacing the model needs OWNER"
    for actor in (Actor(user="carol", groups=("ml",)), Actor(user="bob"), Actor(user="root", admin=True)):
        (event,) = decided(history.when(replace("pkg-2", actor=actor)))
        assert isinstance(event, ev.ModelReplaced), actor


def test_a_deleted_deployment_refuses_through_its_checks_an_erased_or_unknown_one_outright() -> None:
    deleted = given(decider(COMPATIBLE), created(), ev.DeploymentDeleted(deployment_id=D))
    (event,) = decided(deleted.when(replace("pkg-2")))
    assert isinstance(event, ev.ModelReplacementRejected)
    assert event.checks["deployment_state"].message == "deployment d-1 is deleted: its model cannot change"
    erased = given(
        decider(COMPATIBLE), created(), ev.DeploymentDeleted(deployment_id=D), ev.DeploymentErased(deployment_id=D)
    )
    erased.when(replace("pkg-2")).then_rejected("deployment-erased")
    given(decider(COMPATIBLE)).when(replace("pkg-2")).then_rejected("not-found", reason_contains="no deployment d-1")


def test_an_inactive_deployment_may_be_replaced_with_a_warning() -> None:
    inactive = given(decider(COMPATIBLE), created(), ev.DeploymentDeactivated(deployment_id=D))
    (event,) = decided(inactive.when(replace("pkg-2")))
    assert isinstance(event, ev.ModelReplaced)
    assert event.validation_status is WARNING


def test_a_package_the_service_has_not_seen_is_refused_and_accepted_once_registered() -> None:
    history = (created(),)
    refused = given(decider(), *history).when(replace("pkg-2"))
    refused.then_rejected("package-unknown", reason_contains="pkg-2 is not registered")
    (event,) = decided(given(decider(COMPATIBLE), *history).when(replace("pkg-2")))
    assert isinstance(event, ev.ModelReplaced)


def test_the_dry_run_records_the_outcome_whatever_it_is_and_changes_nothing() -> None:
    when = given(decider(REGRESSION), created()).when(validate("pkg-9"))
    (event,) = decided(when)
    assert isinstance(event, ev.ModelReplacementValidated)
    assert (event.model_package_id, event.status, event.previous_model_package_id, event.actor) == (
        "pkg-9",
        FAILING,
        "pkg-1",
        "alice",
    )
    assert len(event.checks) == 11
    assert accepted(when) == when.before
    given(decider(), created()).when(validate("pkg-404")).then_rejected("package-unknown")


def test_two_replacements_in_sequence_the_second_is_validated_against_the_first() -> None:
    needs_zip = spec("pkg-4", features=(*FEATURES, TENURE, Feature(name="zip", type="Text")))
    first = accepted(given(decider(NEEDS_TENURE, needs_zip), created()).when(replace("pkg-3", command_id="c-1")))
    assert first.champion == NEEDS_TENURE.ref
    after_first = given(decider(NEEDS_TENURE, needs_zip), created(), replaced(NEEDS_TENURE))
    (second,) = decided(after_first.when(replace("pkg-4", command_id="c-2")))
    assert isinstance(second, ev.ModelReplaced)
    assert second.previous_model_package_id == "pkg-3"
    assert second.checks["features"].message == "needs features the current model did not: zip"  # not tenure
    (again,) = decided(after_first.when(replace("pkg-3", command_id="c-3")))
    assert isinstance(again, ev.ModelReplacementRejected)
    assert again.checks["not_current_model"].message == "pkg-3 is the current model"


def test_rollback_returns_to_the_previous_champion_through_the_same_checks() -> None:
    history = given(decider(COMPATIBLE), created(), replaced(COMPATIBLE))
    when = history.when(rollback(), now=NOW)
    (event,) = decided(when)
    assert isinstance(event, ev.ModelReplaced)
    assert (event.model_package, event.previous_model_package_id, event.rollback) == (CHAMPION.ref, "pkg-2", True)
    assert (event.reason, event.validation_status) == (ReplacementReason.ERRORS, PASSING)
    state = accepted(when)
    assert state.champion == CHAMPION.ref
    assert [(h.action, h.model_package.id) for h in state.history] == [
        (ModelAction.DEPLOYED, "pkg-1"),
        (ModelAction.REPLACED, "pkg-2"),
        (ModelAction.ROLLED_BACK, "pkg-1"),
    ]
    assert state.history[1].ended_at == NOW


def test_rollbacks_walk_back_one_champion_at_a_time_until_the_first() -> None:
    third = spec("pkg-3")
    history = [created(), replaced(COMPATIBLE), replaced(third, previous="pkg-2")]
    to_second = decided(given(decider(COMPATIBLE, third), *history).when(rollback()))
    assert isinstance(to_second[0], ev.ModelReplaced)
    assert to_second[0].model_package == COMPATIBLE.ref
    history += to_second
    to_first = decided(given(decider(COMPATIBLE, third), *history).when(rollback()))
    assert isinstance(to_first[0], ev.ModelReplaced)
    assert to_first[0].model_package == CHAMPION.ref
    history += to_first
    given(decider(COMPATIBLE, third), *history).when(rollback()).then_rejected("nothing-to-roll-back")


def test_nothing_to_roll_back_on_a_fresh_deployment() -> None:
    given(decider(), created()).when(rollback()).then_rejected("nothing-to-roll-back", reason_contains="d-1")


def test_a_rollback_to_an_unregistered_package_is_refused_with_the_package() -> None:
    unregistered_first = spec("pkg-0")
    history = given(
        decider(COMPATIBLE), created(model_package=unregistered_first.ref), replaced(COMPATIBLE, previous="pkg-0")
    )
    history.when(rollback()).then_rejected("package-unknown", reason_contains="pkg-0")


def test_a_rollback_that_fails_a_check_is_rejected_as_a_rollback() -> None:
    history = given(decider(COMPATIBLE), created(), replaced(COMPATIBLE), challenger_added("ch-1", CHAMPION))
    (event,) = decided(history.when(rollback()))
    assert isinstance(event, ev.ModelReplacementRejected)
    assert (event.rollback, event.model_package_id) == (True, "pkg-1")
    assert event.checks["not_current_model"].status is FAILING


def test_a_model_replaced_folded_twice_counts_once() -> None:
    history = given(decider(COMPATIBLE), created(), replaced(COMPATIBLE))
    state = history.state(D)
    assert [h.model_package.id for h in state.history] == ["pkg-1", "pkg-2"]
    assert history.decider.evolve(state, history.history[1]) == state
    assert state.status is DeploymentStatus.ACTIVE
