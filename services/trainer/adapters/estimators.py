"""Turns an estimator spec into a scikit-learn pipeline, fits it and scores it on the holdout.

Every pipeline takes the same input, the object matrix of `Dataset.matrix` (one column per feature,
in the package's feature order): numbers are imputed with the median and scaled, categories one-hot
encoded (rare and unseen ones share a column), then the family's estimator.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, log_loss, mean_absolute_error, mean_squared_error, r2_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from services.trainer.domain.dataset import Column, ColumnKind, Target
from services.trainer.domain.errors import CannotTrain
from services.trainer.domain.estimators import EstimatorFamily, EstimatorSpec, Hyperparameter
from services.trainer.domain.metrics import Metric
from services.trainer.settings import TrainingSettings


@dataclasses.dataclass(frozen=True)
class Fitted:
    spec: EstimatorSpec
    pipeline: Pipeline
    hyperparameters: Mapping[str, Hyperparameter]
    """The estimator's settings as fitted: the family's defaults with the spec's on top."""
    metrics: Mapping[str, float]


def defaults(family: EstimatorFamily, target: Target, settings: TrainingSettings) -> dict[str, Hyperparameter]:
    if family is EstimatorFamily.LINEAR:
        return {"C": 1.0, "max_iter": 1000} if target.is_classification else {"alpha": 1.0}
    if family is EstimatorFamily.RANDOM_FOREST:
        return {"n_estimators": settings.tree_count, "min_samples_leaf": 3, "random_state": settings.seed}
    return {"max_iter": settings.tree_count, "learning_rate": 0.1, "random_state": settings.seed}


def estimator_class(family: EstimatorFamily, target: Target) -> type[Any]:
    classes: dict[EstimatorFamily, tuple[type[Any], type[Any]]] = {
        EstimatorFamily.LINEAR: (LogisticRegression, Ridge),
        EstimatorFamily.RANDOM_FOREST: (RandomForestClassifier, RandomForestRegressor),
        EstimatorFamily.GRADIENT_BOOSTING: (HistGradientBoostingClassifier, HistGradientBoostingRegressor),
    }
    classifier, regressor = classes[family]
    return classifier if target.is_classification else regressor


def build(
    spec: EstimatorSpec, target: Target, features: Sequence[Column], settings: TrainingSettings
) -> tuple[Pipeline, dict[str, Hyperparameter]]:
    """The unfitted pipeline and its estimator's hyperparameters; CannotTrain for a hyperparameter
    the family's estimator does not have."""
    cls = estimator_class(spec.family, target)
    hyperparameters = defaults(spec.family, target, settings) | dict(spec.hyperparameters)
    unknown = sorted(set(hyperparameters) - set(cls().get_params()))
    if unknown:
        raise CannotTrain(f"hyperparameters {', '.join(unknown)} do not apply to {spec.family} ({cls.__name__})")
    runtime = {"n_jobs": settings.threads} if spec.family is EstimatorFamily.RANDOM_FOREST else {}
    numeric = [i for i, f in enumerate(features) if f.kind in (ColumnKind.NUMERIC, ColumnKind.DATE)]
    categorical = [i for i, f in enumerate(features) if f.kind is ColumnKind.CATEGORICAL]
    encode = OneHotEncoder(
        handle_unknown="infrequent_if_exist", max_categories=settings.max_categories, sparse_output=False
    )
    prepare = ColumnTransformer(
        [
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
            ("categorical", encode, categorical),
        ],
        sparse_threshold=0,
    )
    pipeline = Pipeline([("prepare", prepare), ("estimator", cls(**hyperparameters, **runtime))])
    return pipeline, hyperparameters


def fit(
    spec: EstimatorSpec,
    target: Target,
    features: Sequence[Column],
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    settings: TrainingSettings,
) -> Fitted:
    """Fit on the training rows and score on the holdout: `data` is (X_train, y_train, X_holdout, y_holdout)."""
    x_train, y_train, x_holdout, y_holdout = data
    pipeline, hyperparameters = build(spec, target, features, settings)
    try:
        # OpenMP (boosting) and BLAS start a thread per core by default; on a shared host those threads
        # wait on each other (a 1 s fit took 20 s on two busy cores), so the pools are capped.
        with threadpool_limits(limits=settings.threads):
            pipeline.fit(x_train, y_train)
    except ValueError as exc:  # e.g. a hyperparameter value out of range
        raise CannotTrain(f"{spec.family} could not be fitted: {exc}") from exc
    return Fitted(spec, pipeline, hyperparameters, score(pipeline, target, x_holdout, y_holdout))


def score(pipeline: Pipeline, target: Target, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Holdout metrics by name; one the holdout cannot define (AUC with a single class) is left out."""
    metrics: dict[Metric, float] = {}
    if target.is_classification:
        probabilities = pipeline.predict_proba(x)
        classes = list(pipeline.classes_)
        metrics[Metric.LOG_LOSS] = float(log_loss(y, probabilities, labels=classes))
        metrics[Metric.ACCURACY] = float(accuracy_score(y, pipeline.predict(x)))
        positive = target.classes[-1]
        if len(target.classes) == 2 and len(set(y)) == 2:
            metrics[Metric.AUC] = float(roc_auc_score(y == positive, probabilities[:, classes.index(positive)]))
    else:
        predicted = pipeline.predict(x)
        metrics[Metric.RMSE] = math.sqrt(float(mean_squared_error(y, predicted)))
        metrics[Metric.MAE] = float(mean_absolute_error(y, predicted))
        if len(y) >= 2:
            metrics[Metric.R_SQUARED] = float(r2_score(y, predicted))
    return {name.value: round(value, 6) for name, value in metrics.items() if math.isfinite(value)}
