"""The holdout split and the choice of the best candidate."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from services.trainer.domain.errors import CannotTrain
from services.trainer.domain.estimators import EstimatorFamily, EstimatorSpec
from services.trainer.domain.metrics import Metric, Scored, best, metrics_for, selection_metric
from services.trainer.domain.split import holdout_split
from shared.contract.events.values import TargetType

LINEAR, FOREST, BOOSTING = (EstimatorSpec(family) for family in EstimatorFamily)


def test_the_split_is_a_partition_of_the_rows_of_the_asked_size_and_the_same_every_time() -> None:
    split = holdout_split(1000, 0.2, seed=3)
    assert sorted(split.train + split.holdout) == list(range(1000))
    assert len(split.holdout) == 200
    assert holdout_split(1000, 0.2, seed=3) == split
    assert holdout_split(1000, 0.2, seed=4) != split


def test_a_stratified_split_keeps_each_class_share_and_every_class_on_both_sides() -> None:
    labels = ["no"] * 900 + ["yes"] * 95 + ["rare"] * 5
    split = holdout_split(len(labels), 0.2, seed=0, labels=labels)
    held = Counter(labels[i] for i in split.holdout)
    trained = Counter(labels[i] for i in split.train)
    assert held == {"no": 180, "yes": 19, "rare": 1}
    assert trained == {"no": 720, "yes": 76, "rare": 4}


def test_a_class_of_two_rows_is_split_between_both_sides() -> None:
    labels = ["a"] * 50 + ["b"] * 2
    split = holdout_split(len(labels), 0.1, seed=0, labels=labels)
    assert Counter(labels[i] for i in split.holdout)["b"] == 1
    assert Counter(labels[i] for i in split.train)["b"] == 1


def test_too_few_rows_cannot_be_split() -> None:
    with pytest.raises(CannotTrain, match="1 row"):
        holdout_split(1, 0.2, seed=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        holdout_split(10, 1.0, seed=0)


def test_classification_picks_by_log_loss_and_regression_by_rmse() -> None:
    assert selection_metric(TargetType.BINARY) is Metric.LOG_LOSS
    assert selection_metric(TargetType.MULTICLASS) is Metric.LOG_LOSS
    assert selection_metric(TargetType.REGRESSION) is Metric.RMSE
    assert Metric.AUC in metrics_for(TargetType.BINARY)
    assert Metric.AUC not in metrics_for(TargetType.MULTICLASS)


def test_the_best_candidate_has_the_lowest_loss_or_the_highest_score() -> None:
    scored = [
        Scored(LINEAR, {"LogLoss": 0.5, "AUC": 0.7}),
        Scored(FOREST, {"LogLoss": 0.4, "AUC": 0.6}),
        Scored(BOOSTING, {"LogLoss": 0.45, "AUC": 0.8}),
    ]
    assert best(scored, Metric.LOG_LOSS).spec == FOREST
    assert best(scored, Metric.AUC).spec == BOOSTING


def test_a_tie_goes_to_the_earlier_candidate_and_a_missing_or_nan_value_ranks_last() -> None:
    assert best([Scored(LINEAR, {"RMSE": 1.0}), Scored(FOREST, {"RMSE": 1.0})], Metric.RMSE).spec == LINEAR
    assert best([Scored(LINEAR, {}), Scored(FOREST, {"RMSE": 9.0})], Metric.RMSE).spec == FOREST
    assert best([Scored(LINEAR, {"RMSE": math.nan}), Scored(FOREST, {"RMSE": 9.0})], Metric.RMSE).spec == FOREST
    with pytest.raises(ValueError, match="no candidate"):
        best([], Metric.RMSE)
