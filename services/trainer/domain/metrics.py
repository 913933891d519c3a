"""Holdout metrics, named as DataRobot names them, and how the best candidate is chosen."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping, Sequence

from services.trainer.domain.estimators import EstimatorSpec
from shared.contract.events.values import TargetType


class Metric(enum.StrEnum):
    LOG_LOSS = "LogLoss"
    AUC = "AUC"
    ACCURACY = "Accuracy"
    RMSE = "RMSE"
    MAE = "MAE"
    R_SQUARED = "R Squared"


LOWER_IS_BETTER = frozenset({Metric.LOG_LOSS, Metric.RMSE, Metric.MAE})


def metrics_for(target_type: TargetType) -> tuple[Metric, ...]:
    """The holdout metrics reported for a target type, the one that picks the best model first."""
    if target_type is TargetType.REGRESSION:
        return (Metric.RMSE, Metric.MAE, Metric.R_SQUARED)
    if target_type is TargetType.BINARY:
        return (Metric.LOG_LOSS, Metric.AUC, Metric.ACCURACY)
    return (Metric.LOG_LOSS, Metric.ACCURACY)


def selection_metric(target_type: TargetType) -> Metric:
    return metrics_for(target_type)[0]


@dataclasses.dataclass(frozen=True, slots=True)
class Scored:
    spec: EstimatorSpec
    metrics: Mapping[str, float]
    """By metric name; a metric the holdout cannot define (AUC with one class in it) is absent."""


def best(scored: Sequence[Scored], metric: Metric) -> Scored:
    """The candidate with the best value of `metric`; on a tie the earlier one. A candidate without
    a finite value ranks last."""
    if not scored:
        raise ValueError("no candidate to choose from")
    sign = 1 if metric in LOWER_IS_BETTER else -1

    def rank(item: tuple[int, Scored]) -> tuple[bool, float, int]:
        position, candidate = item
        value = candidate.metrics.get(metric.value)
        missing = value is None or not math.isfinite(value)
        return (missing, 0.0 if value is None or missing else sign * value, position)

    return min(enumerate(scored), key=rank)[1]
