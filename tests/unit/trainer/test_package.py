"""The package a run registers is derived from the run."""

from __future__ import annotations

from services.trainer.domain.dataset import Column, ColumnKind, Target
from services.trainer.domain.estimators import EstimatorFamily
from services.trainer.domain.package import describe_package, model_package_id
from shared.contract.envelope import derived_id
from shared.contract.events.values import Feature, TargetType


def test_the_package_id_is_derived_from_the_run_id() -> None:
    assert model_package_id("run-7") == model_package_id("run-7") == derived_id("run-7", "package")
    assert model_package_id("run-8") != model_package_id("run-7")
    assert len(model_package_id("r" * 256)) == 36  # within the contract's id length, whatever the run id


def test_the_package_describes_the_target_and_the_features_with_their_types() -> None:
    package = describe_package(
        run_id="run-7",
        target=Target("churned", TargetType.BINARY, ("no", "yes")),
        features=(Column("age", ColumnKind.NUMERIC), Column("plan", ColumnKind.CATEGORICAL)),
        family=EstimatorFamily.RANDOM_FOREST,
    )
    assert package.model_package_id == package.subject == model_package_id("run-7")
    assert (package.target_name, package.target_type, package.target_classes) == (
        "churned",
        TargetType.BINARY,
        ("no", "yes"),
    )
    assert package.features == (Feature(name="age", type="Numeric"), Feature(name="plan", type="Categorical"))
    assert package.ready
    assert "random_forest" in package.name
    assert "run-7" in package.name
