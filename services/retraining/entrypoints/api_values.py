"""Values of the retraining API's bodies that JSON Schema describes only in part: the minimum interval
between runs, an RFC 3339 duration or a number of seconds, capped at ten years."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError, WithJsonSchema, field_serializer

from shared.contract.events.retraining import Trigger

MAX_INTERVAL = timedelta(days=3660)
"""A minimum interval between runs of at most ten years (a longer one counts as this: time would overflow)."""

_DATE = r"(\d+D|\d+M(\d+D)?|\d+Y(\d+M(\d+D)?)?)"
_TIME = r"(T(\d+H(\d+M(\d+S)?)?|\d+M(\d+S)?|\d+S))"
_DURATION = re.compile(rf"^P({_DATE}{_TIME}?|{_TIME}|\d+W)$", re.IGNORECASE)
"""The duration of RFC 3339 (appendix A), what JSON Schema's `format: duration` means."""


def _interval(value: object) -> object:
    """An RFC 3339 duration or a number of seconds, at most MAX_INTERVAL (a longer one is that long:
    a throttle of ten years or more is the same in practice, and longer ones would overflow time)."""
    if isinstance(value, bool):
        raise ValueError("must be an RFC 3339 duration or a number of seconds, not a boolean")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("must be a whole number of seconds (a duration has no fractions)")
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
                {"type": "integer", "minimum": 0},
                {"type": "null"},
            ]
        }
    ),
]


def rfc3339_duration(value: timedelta) -> str:
    """`value` as RFC 3339 writes a duration (`P3660D`, `PT6H`, `P1DT0H30M`), whole seconds: pydantic's
    own form (`P10Y10D`, years of 365 days and no month) is not one, and a client would refuse it."""
    days, rest = divmod(int(value.total_seconds()), 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    time = f"{hours}H" if hours else ""
    time += f"{minutes}M" if minutes or (hours and seconds) else ""
    time += f"{seconds}S" if seconds else ""
    if not (days or time):
        return "PT0S"
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")


class TriggerOut(Trigger):
    """A policy's trigger as the API answers it: the minimum interval as an RFC 3339 duration."""

    @field_serializer("min_interval_between_runs")
    def _rfc3339(self, value: timedelta | None) -> str | None:
        return None if value is None else rfc3339_duration(value)
