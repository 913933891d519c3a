"""Model files: one joblib file per package, holding the fitted pipeline and what it needs to be used.

The file is a plain dict, so loading it needs scikit-learn and joblib but none of this project's code:

    bundle = joblib.load(path)
    bundle["model"].predict(matrix)        # matrix: one column per bundle["features"], in order

`predict` below builds that matrix from records (dicts by feature name) the way training did.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn

from services.trainer.adapters.values import as_category, as_date_number, as_number
from shared.contract.events.values import Feature

FORMAT = "lifecycle-trainer-model/1"


def model_path(model_dir: Path, model_package_id: str) -> Path:
    """The package's file; characters a file name should not hold become '_'."""
    return model_dir / f"{re.sub(r'[^A-Za-z0-9._-]', '_', model_package_id)}.joblib"


def save(path: Path, model: Any, description: Mapping[str, Any]) -> Path:
    """Write atomically (a temporary file renamed into place), so a reader never sees half a model
    and two writers of the same package leave one whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    bundle = {"format": FORMAT, "sklearn_version": sklearn.__version__, **description, "model": model}
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        joblib.dump(bundle, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load(path: Path) -> dict[str, Any]:
    bundle = joblib.load(path)
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} model file")
    return bundle


def matrix(records: Sequence[Mapping[str, object]], features: Sequence[Feature]) -> np.ndarray:
    """Records (by feature name; a missing key is a missing value) as the model's input matrix."""
    convert = {"Numeric": as_number, "Date": as_date_number, "Categorical": as_category}
    rows = np.empty((len(records), len(features)), dtype=object)
    for j, feature in enumerate(features):
        to_value = convert[feature.type]
        rows[:, j] = [to_value(record.get(feature.name)) for record in records]
    return rows


def predict(bundle: Mapping[str, Any], records: Sequence[Mapping[str, object]]) -> list[Any]:
    features = [Feature.model_validate(feature) for feature in bundle["features"]]
    return list(bundle["model"].predict(matrix(records, features)))
