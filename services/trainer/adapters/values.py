"""How a feature value enters a model, the same when training and when predicting from a model file."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from services.trainer.domain.dataset import label

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def as_category(value: object) -> str | None:
    """Text for a category (True reads "true", 1.0 reads "1"); None stays missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return label(value)


def as_number(value: object) -> float:
    """A float, NaN for missing or unreadable values (the model imputes them)."""
    if value is None or value == "":
        return math.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def as_date_number(value: object) -> float:
    """Days since 1970-01-01 (UTC for a naive time), NaN for missing; ISO text is read too."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return math.nan
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return (aware - _EPOCH).total_seconds() / 86400
    if isinstance(value, date):
        return float((value - _EPOCH.date()).days)
    return math.nan
