"""Target and feature columns, the target type, and class labels."""

from __future__ import annotations

import pytest

from services.trainer.domain.dataset import Column, ColumnKind, infer_target, label, split_columns
from services.trainer.domain.errors import CannotTrain
from shared.contract.events.values import Feature, TargetType

NUMERIC, CATEGORICAL = ColumnKind.NUMERIC, ColumnKind.CATEGORICAL
COLUMNS = (Column("age", NUMERIC), Column("churned", CATEGORICAL), Column("plan", CATEGORICAL))


def test_the_target_is_taken_out_of_the_features_which_keep_file_order() -> None:
    target, features = split_columns(COLUMNS, "churned")
    assert target == Column("churned", CATEGORICAL)
    assert [f.name for f in features] == ["age", "plan"]


def test_a_missing_target_column_is_named_with_the_columns_there_are() -> None:
    with pytest.raises(CannotTrain, match=r"column 'churn' is not in the dataset \(columns: age, churned, plan\)"):
        split_columns(COLUMNS, "churn")


def test_a_dataset_of_only_the_target_cannot_be_trained() -> None:
    with pytest.raises(CannotTrain, match="no column besides the target"):
        split_columns((Column("y", NUMERIC),), "y")


@pytest.mark.parametrize(
    ("kind", "values", "expected", "classes"),
    [
        (CATEGORICAL, ["yes", "no"] * 10, TargetType.BINARY, ("no", "yes")),
        (NUMERIC, [0, 1] * 10, TargetType.BINARY, ("0", "1")),
        (NUMERIC, [0.0, 1.0] * 10, TargetType.BINARY, ("0", "1")),
        (CATEGORICAL, [True, False] * 10, TargetType.BINARY, ("false", "true")),
        (CATEGORICAL, ["a", "b", "c", "d"] * 5, TargetType.MULTICLASS, ("a", "b", "c", "d")),
        (NUMERIC, [1, 2, 3, 4] * 5, TargetType.REGRESSION, ()),
        (NUMERIC, [float(i) / 3 for i in range(20)], TargetType.REGRESSION, ()),
    ],
)
def test_the_target_type_follows_the_column_kind_and_its_values(
    kind: ColumnKind, values: list[object], expected: TargetType, classes: tuple[str, ...]
) -> None:
    target = infer_target(Column("y", kind), values, min_rows=20)
    assert (target.type, target.classes) == (expected, classes)
    assert target.is_classification is (expected is not TargetType.REGRESSION)


def test_rows_without_a_target_value_do_not_count_towards_the_minimum() -> None:
    values: list[object] = ["yes", "no", None, ""] * 5
    with pytest.raises(CannotTrain, match=r"has a value in 10 row\(s\); at least 11 are needed"):
        infer_target(Column("churned", CATEGORICAL), values, min_rows=11)
    assert infer_target(Column("churned", CATEGORICAL), values, min_rows=10).classes == ("no", "yes")


def test_a_target_with_one_value_has_nothing_to_learn() -> None:
    with pytest.raises(CannotTrain, match="one value only \\('no'\\)"):
        infer_target(Column("churned", CATEGORICAL), ["no"] * 30, min_rows=20)


def test_labels_read_the_same_for_equal_numbers_and_booleans() -> None:
    assert [label(1), label(1.0), label(1.5), label(True), label("x")] == ["1", "1", "1.5", "true", "x"]


def test_features_carry_their_kind_as_the_feature_type() -> None:
    from services.trainer.domain.dataset import features_of

    assert features_of((Column("when", ColumnKind.DATE), Column("age", NUMERIC))) == (
        Feature(name="when", type="Date"),
        Feature(name="age", type="Numeric"),
    )
