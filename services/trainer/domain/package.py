"""The model package a training run registers, derived from the run so a re-run registers the same one."""

from __future__ import annotations

from collections.abc import Sequence

from services.trainer.domain.dataset import Column, Target, features_of
from services.trainer.domain.estimators import EstimatorFamily
from shared.contract.envelope import derived_id
from shared.contract.events.model import ModelPackageRegistered


def model_package_id(run_id: str) -> str:
    """One package per run (as the training-jobs contract suggests): a redelivered request registers
    the package of its first delivery again, never a second one."""
    return derived_id(run_id, "package")


def describe_package(
    *, run_id: str, target: Target, features: Sequence[Column], family: EstimatorFamily
) -> ModelPackageRegistered:
    return ModelPackageRegistered(
        model_package_id=model_package_id(run_id),
        name=f"{target.name} {family.value} (retraining run {run_id})",
        target_name=target.name,
        target_type=target.type,
        target_classes=target.classes,
        features=features_of(features),
        build_environment="Python",
        ready=True,
    )
