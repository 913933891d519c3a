"""What the trainer sees of a dataset before training: its columns, their kinds, and the target."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence

from services.trainer.domain.errors import CannotTrain
from shared.contract.events.values import Feature, TargetType


class ColumnKind(enum.StrEnum):
    """A column's data type, named as model packages name feature types."""

    NUMERIC = "Numeric"
    CATEGORICAL = "Categorical"
    DATE = "Date"


@dataclasses.dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: ColumnKind


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    name: str
    type: TargetType
    classes: tuple[str, ...] = ()
    """Sorted labels for classification; the last one is the positive class of a binary target."""

    @property
    def is_classification(self) -> bool:
        return self.type is not TargetType.REGRESSION


def split_columns(columns: Sequence[Column], target_name: str) -> tuple[Column, tuple[Column, ...]]:
    """The target column and the features (every other column, in file order)."""
    by_name = {column.name: column for column in columns}
    if target_name not in by_name:
        listed = ", ".join(column.name for column in columns) or "none"
        raise CannotTrain(f"target column {target_name!r} is not in the dataset (columns: {listed})")
    features = tuple(column for column in columns if column.name != target_name)
    if not features:
        raise CannotTrain(f"the dataset has no column besides the target {target_name!r}")
    return by_name[target_name], features


def features_of(columns: Sequence[Column]) -> tuple[Feature, ...]:
    return tuple(Feature(name=column.name, type=column.kind.value) for column in columns)


def label(value: object) -> str:
    """A class label as text: 1 and 1.0 both read "1", so a 0/1 target has classes "0" and "1"."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def infer_target(column: Column, values: Sequence[object], *, min_rows: int) -> Target:
    """Regression for a numeric target with more than two values; classification otherwise
    (Binary for two classes, Multiclass for more). `values` are the rows' target values, None
    where missing (those rows are not trained on)."""
    present = [value for value in values if value is not None and value != ""]
    if len(present) < min_rows:
        raise CannotTrain(
            f"target {column.name!r} has a value in {len(present)} row(s); at least {min_rows} are needed"
        )
    classes = sorted({label(value) for value in present})
    if column.kind is ColumnKind.NUMERIC and len(classes) > 2:
        return Target(column.name, TargetType.REGRESSION)
    if len(classes) < 2:
        raise CannotTrain(f"target {column.name!r} has one value only ({classes[0]!r}): there is nothing to learn")
    kind = TargetType.BINARY if len(classes) == 2 else TargetType.MULTICLASS
    return Target(column.name, kind, tuple(classes))
