"""Which estimators each model selection fits, and where the champion's family comes from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.trainer.domain.errors import CannotTrain
from services.trainer.domain.estimators import (
    AUTOPILOT,
    Candidates,
    Champion,
    EstimatorFamily,
    EstimatorSpec,
    candidates,
    family_of,
)
from services.trainer.domain.job import Job, champion_for, check_deadline
from shared.contract.events.retraining import ModelSelection

AUTO, BLUEPRINT, SAME_PARAMS = (
    ModelSelection.AUTOPILOT_RECOMMENDED,
    ModelSelection.SAME_BLUEPRINT,
    ModelSelection.SAME_HYPERPARAMETERS,
)
FOREST = EstimatorFamily.RANDOM_FOREST
CHAMPION = Champion("pkg-1", "RandomForestClassifier", {"n_estimators": 7, "max_depth": 4})


def specs(selection: ModelSelection, champion: Champion | None, **over: object) -> tuple[EstimatorSpec, ...]:
    return candidates(selection, champion, **over).specs  # type: ignore[arg-type]


def test_autopilot_tries_every_configured_family_with_its_defaults_once() -> None:
    assert candidates(AUTO, None) == Candidates(tuple(EstimatorSpec(family) for family in AUTOPILOT))
    assert len(AUTOPILOT) >= 3
    narrowed = (EstimatorFamily.LINEAR, EstimatorFamily.LINEAR, FOREST)
    assert specs(AUTO, CHAMPION, autopilot=narrowed) == (EstimatorSpec(EstimatorFamily.LINEAR), EstimatorSpec(FOREST))


def test_autopilot_with_nothing_to_try_is_refused() -> None:
    with pytest.raises(CannotTrain, match="autopilot_families"):
        candidates(AUTO, None, ())


def test_same_blueprint_refits_the_champion_family_with_the_defaults() -> None:
    assert candidates(BLUEPRINT, CHAMPION) == Candidates((EstimatorSpec(FOREST),))


def test_same_hyperparameters_refits_the_champion_family_with_its_hyperparameters_or_the_defaults() -> None:
    same = EstimatorSpec(FOREST, {"n_estimators": 7, "max_depth": 4})
    assert candidates(SAME_PARAMS, CHAMPION) == Candidates((same,))
    assert specs(SAME_PARAMS, Champion(family="linear")) == (EstimatorSpec(EstimatorFamily.LINEAR, {}),)


@pytest.mark.parametrize("selection", [BLUEPRINT, SAME_PARAMS])
def test_a_champion_of_unknown_family_falls_back_to_autopilot_saying_why(selection: ModelSelection) -> None:
    unknown = candidates(selection, Champion("pkg-9"))
    assert unknown.specs == candidates(AUTO, None).specs
    assert unknown.fallback == f"{selection.value}: the estimator family of the champion 'pkg-9' is unknown"
    assert candidates(selection, None).fallback == f"{selection.value}: the estimator family of the champion is unknown"
    foreign = candidates(selection, Champion("pkg-9", "XGBoost"))
    assert foreign.specs == candidates(AUTO, None).specs
    assert foreign.fallback is not None
    assert "'pkg-9' is a 'XGBoost', not a family this trainer fits (linear, random_forest" in foreign.fallback


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("linear", EstimatorFamily.LINEAR),
        ("LogisticRegression", EstimatorFamily.LINEAR),
        ("Ridge", EstimatorFamily.LINEAR),
        ("random_forest", FOREST),
        ("Random Forest", FOREST),
        ("RandomForestRegressor", FOREST),
        ("gradient-boosting", EstimatorFamily.GRADIENT_BOOSTING),
        ("HistGradientBoostingClassifier", EstimatorFamily.GRADIENT_BOOSTING),
        ("XGBoost", None),
    ],
)
def test_families_are_known_by_our_names_and_by_scikit_learn_class_names(
    name: str, family: EstimatorFamily | None
) -> None:
    assert family_of(name) is family


def job(**over: object) -> Job:
    values: dict[str, object] = {
        "run_id": "run-1",
        "deployment_id": "dep-1",
        "dataset": "churn.csv",
        "target_name": "churned",
        "selection": BLUEPRINT,
    }
    return Job(**(values | over))  # type: ignore[arg-type]


def test_the_request_says_what_it_knows_of_the_champion_and_the_trainers_record_fills_the_rest() -> None:
    recorded = Champion("pkg-1", "random_forest", {"n_estimators": 7})
    assert champion_for(job(champion=Champion("pkg-1")), recorded) == recorded
    assert champion_for(job(champion=Champion("pkg-1", "linear")), recorded) == Champion(
        "pkg-1", "linear", {"n_estimators": 7}
    )
    given = Champion("pkg-1", "linear", {"C": 2.0})
    assert champion_for(job(champion=given), recorded) == given
    assert champion_for(job(champion=given), None) == given


def test_a_job_past_its_deadline_is_not_started() -> None:
    deadline = datetime(2026, 11, 1, 12, tzinfo=UTC)
    check_deadline(job(deadline=deadline), deadline - timedelta(seconds=1))
    check_deadline(job(), deadline)
    with pytest.raises(CannotTrain, match="deadline 2026-11-01T12:00:00\\+00:00 passed before training started"):
        check_deadline(job(deadline=deadline), deadline)
