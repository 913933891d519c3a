"""Times on the command line: ISO 8601 with a UTC offset, or how long ago (`90s`, `15m`, `2h`, `3d`, `1w`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tools.cli.common import bad_input

_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
FORMS = "ISO 8601 with an offset (2026-11-01T12:00:00+00:00, or ...Z) or an age: 90s, 15m, 2h, 3d, 1w"


def parse_span(text: str) -> timedelta | None:
    """`90s`, `15m`, `2h`, `3d`, `1w` as a span of time; None for anything else."""
    span = _AGO.match(text)
    return timedelta(**{_UNITS[span.group(2)]: float(span.group(1))}) if span else None


def parse_time(text: str, what: str = "TIME", now: datetime | None = None) -> datetime:
    """The moment `text` names, in UTC; a naive time is refused rather than guessed (the log's times are
    all UTC-aware and a guessed zone would shift the answer by hours)."""
    age = parse_span(text)
    if age is not None:
        return (now or datetime.now(UTC)) - age
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise bad_input(f"{what}: {text!r} is not a time; use {FORMS}") from None
    if moment.tzinfo is None:
        raise bad_input(f"{what}: {text!r} has no UTC offset; add one (e.g. {text}+00:00 or {text}Z) or use an age")
    return moment.astimezone(UTC)
