"""Which estimators to try: the model selection of the request, applied to what is known of the champion.

Estimator families are task-agnostic: `random_forest` is a forest classifier for a classification
target and a forest regressor for a regression one, so a champion's family carries over whatever
the target. The adapters turn a spec into a scikit-learn estimator.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping, Sequence

from services.trainer.domain.errors import CannotTrain
from shared.contract.events.retraining import ModelSelection

Hyperparameter = str | int | float | bool | None


class EstimatorFamily(enum.StrEnum):
    LINEAR = "linear"
    """Logistic regression for classification, ridge regression for regression."""
    RANDOM_FOREST = "random_forest"
    GRADIENT_BOOSTING = "gradient_boosting"
    """Histogram-based gradient boosted trees."""


AUTOPILOT: tuple[EstimatorFamily, ...] = tuple(EstimatorFamily)

_ALIASES: dict[str, EstimatorFamily] = {
    "linear": EstimatorFamily.LINEAR,
    "logisticregression": EstimatorFamily.LINEAR,
    "ridge": EstimatorFamily.LINEAR,
    "linearregression": EstimatorFamily.LINEAR,
    "randomforest": EstimatorFamily.RANDOM_FOREST,
    "randomforestclassifier": EstimatorFamily.RANDOM_FOREST,
    "randomforestregressor": EstimatorFamily.RANDOM_FOREST,
    "gradientboosting": EstimatorFamily.GRADIENT_BOOSTING,
    "gradientboostingclassifier": EstimatorFamily.GRADIENT_BOOSTING,
    "gradientboostingregressor": EstimatorFamily.GRADIENT_BOOSTING,
    "histgradientboostingclassifier": EstimatorFamily.GRADIENT_BOOSTING,
    "histgradientboostingregressor": EstimatorFamily.GRADIENT_BOOSTING,
}


def family_of(name: str) -> EstimatorFamily | None:
    """The family a name stands for: ours (`random_forest`) or a scikit-learn class name
    (`RandomForestClassifier`), in any case and spelling of separators; None for any other."""
    return _ALIASES.get(re.sub(r"[^a-z]", "", name.lower()))


@dataclasses.dataclass(frozen=True, slots=True)
class EstimatorSpec:
    family: EstimatorFamily
    hyperparameters: Mapping[str, Hyperparameter] = dataclasses.field(default_factory=dict)
    """Set on top of the family's defaults; empty for the defaults."""


@dataclasses.dataclass(frozen=True, slots=True)
class Champion:
    """What is known of the model being retrained: from the request, or from the trainer's own
    record of a package it trained before."""

    model_package_id: str | None = None
    family: str | None = None
    hyperparameters: Mapping[str, Hyperparameter] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Candidates:
    specs: tuple[EstimatorSpec, ...]
    """In order of preference on a tie."""
    fallback: str | None = None
    """Why autopilot's candidates stand in for the champion's family, when they do."""


def candidates(
    selection: ModelSelection, champion: Champion | None, autopilot: Sequence[EstimatorFamily] = AUTOPILOT
) -> Candidates:
    """The estimators to fit.

    `autopilot_recommended` tries every autopilot family with its defaults; `same_blueprint` refits
    the champion's family with the defaults; `same_hyperparameters` the champion's family with its
    hyperparameters (the defaults where none are known). When the champion's family is unknown, or
    not one this trainer fits, both fall back to autopilot, as the training-jobs contract says."""
    if not autopilot:
        raise CannotTrain("autopilot has no estimator family to try (settings: training.autopilot_families)")
    tried = Candidates(tuple(EstimatorSpec(family) for family in dict.fromkeys(autopilot)))
    if selection is ModelSelection.AUTOPILOT_RECOMMENDED:
        return tried
    known = champion or Champion()
    about = f"the champion {known.model_package_id!r}" if known.model_package_id else "the champion"
    if not known.family:
        return dataclasses.replace(tried, fallback=f"{selection.value}: the estimator family of {about} is unknown")
    family = family_of(known.family)
    if family is None:
        fitted = ", ".join(EstimatorFamily)
        reason = f"{selection.value}: {about} is a {known.family!r}, not a family this trainer fits ({fitted})"
        return dataclasses.replace(tried, fallback=reason)
    if selection is ModelSelection.SAME_BLUEPRINT:
        return Candidates((EstimatorSpec(family),))
    return Candidates((EstimatorSpec(family, dict(known.hyperparameters or {})),))
