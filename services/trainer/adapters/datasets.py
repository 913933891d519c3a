"""Reads the dataset a request names (CSV or Parquet, through pyarrow) into columns the trainer uses.

Column kinds come from the types pyarrow infers: numbers are Numeric, text and booleans Categorical,
dates and timestamps Date. Columns of any other type (all empty, lists, binary) are left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from services.trainer.adapters.values import as_category, as_date_number
from services.trainer.domain.dataset import Column, ColumnKind
from services.trainer.domain.errors import CannotTrain

FORMATS = {".csv": "CSV", ".gz": "CSV", ".parquet": "Parquet", ".pq": "Parquet"}


@dataclasses.dataclass(frozen=True)
class Dataset:
    path: Path
    columns: tuple[Column, ...]
    skipped: tuple[str, ...]
    """Columns of a type the trainer does not use, by name."""
    table: pa.Table

    @property
    def row_count(self) -> int:
        return int(self.table.num_rows)

    def values(self, name: str) -> list[object]:
        """A column's values as Python objects, None where missing."""
        return list(self.table.column(name).to_pylist())

    def matrix(self, features: Sequence[Column], rows: Sequence[int]) -> np.ndarray:
        """The feature matrix of `rows`: an object array, one column per feature, as model files take it
        (numbers as floats with NaN for missing, categories as text or None, dates as day numbers)."""
        taken = self.table.take(pa.array(rows, type=pa.int64()))
        matrix = np.empty((len(rows), len(features)), dtype=object)
        for index, feature in enumerate(features):
            column = taken.column(feature.name)
            if feature.kind is ColumnKind.NUMERIC:
                matrix[:, index] = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
            elif feature.kind is ColumnKind.DATE:
                matrix[:, index] = [as_date_number(value) for value in column.to_pylist()]
            else:
                matrix[:, index] = [as_category(value) for value in column.to_pylist()]
        return matrix


def resolve(reference: str, root: Path) -> Path:
    """A path, or a file:// URL; a relative path is relative to `root`."""
    parsed = urlparse(reference)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:  # a single letter is a Windows drive
        raise CannotTrain(f"dataset {reference!r}: only local files are supported, not {parsed.scheme}://")
    path = Path(reference).expanduser()
    return path if path.is_absolute() else root / path


def load(reference: str, root: Path) -> Dataset:
    """Raises CannotTrain, naming the file, when it is missing, of another format, or unreadable."""
    path = resolve(reference, root)
    if not path.exists():
        raise CannotTrain(f"dataset not found: {path}")
    if not path.is_file():
        raise CannotTrain(f"dataset {path} is not a file")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None or (path.suffix.lower() == ".gz" and not path.name.lower().endswith(".csv.gz")):
        extension = path.suffix or "no extension"
        raise CannotTrain(f"dataset {path}: {extension} is not a format the trainer reads (CSV or Parquet)")
    try:
        table = pq.read_table(path) if kind == "Parquet" else pa_csv.read_csv(path)
    except (pa.ArrowException, OSError) as exc:
        raise CannotTrain(f"dataset {path} could not be read as {kind}: {exc}") from exc
    columns, skipped = [], []
    for field in table.schema:
        kind_of = _kind(field.type)
        if kind_of is None:
            skipped.append(field.name)
        else:
            columns.append(Column(field.name, kind_of))
    return Dataset(path, tuple(columns), tuple(skipped), table)


def _kind(data_type: pa.DataType) -> ColumnKind | None:
    if pa.types.is_integer(data_type) or pa.types.is_floating(data_type) or pa.types.is_decimal(data_type):
        return ColumnKind.NUMERIC
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type) or pa.types.is_boolean(data_type):
        return ColumnKind.CATEGORICAL
    if pa.types.is_dictionary(data_type):
        return ColumnKind.CATEGORICAL
    if pa.types.is_date(data_type) or pa.types.is_timestamp(data_type):
        return ColumnKind.DATE
    return None
