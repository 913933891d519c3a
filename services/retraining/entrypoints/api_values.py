"""Values of the retraining API's bodies that JSON Schema describes only in part: the minimum interval
between runs, an RFC 3339 duration or a number of seconds, capped at ten years."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError, WithJsonSchema

MAX_INTERVAL = timedelta(days=3660)
"""A minimum interval between runs of at most ten years (longer ones are refused: time would overflow)."""

_DATE = r"(\d+D|\d+M(\d+D)?|\d+Y(\d+M(\d+D)?)?)"
_TIME = r"(T(\d+H(\d+M(\d+S)?)?|\d+M(\d+S)?|\d+S))"
_DURATION = re.compile(rf"^P({_DATE}{_TIME}?|{_TIME}|\d+W)$", re.IGNORECASE)
"""The duration of RFC 3339 (appendix A), what JSON Schema's `format: duration` means."""


def _interval(value: object) -> object:
    """An RFC 3339 duration or a number of seconds, at most MAX_INTERVAL (a longer one is that long:
    a throttle of ten years or more is the same in practice, and longer ones would overflow time)."""
    if isinstance(value, bool):
        raise ValueError("must be an RFC 3339 duration or a number of seconds, not a boolean")
    if isinstance(value, int | float) and value > MAX_INTERVAL.total_seconds():
        return MAX_INTERVAL
    if isinstance(value, str):
        if not _DURATION.match(value):
            raise ValueError("must be an RFC 3339 duration (e.g. PT6H, P1D) or a number of seconds")
        try:
            return min(_DURATIONS.validate_python(value.upper()), MAX_INTERVAL)
        except ValidationError:
            return MAX_INTERVAL  # well formed, too long to hold
    return value


_DURATIONS = TypeAdapter(timedelta)
Interval = Annotated[
    Annotated[timedelta, Field(ge=timedelta(0))] | None,
    BeforeValidator(_interval),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "duration"},
                {"type": "number", "minimum": 0},
                {"type": "null"},
            ]
        }
    ),
]
