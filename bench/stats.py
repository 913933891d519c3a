"""Percentiles of measured runs."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (NumPy's default); q in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclasses.dataclass(frozen=True)
class Latencies:
    """Seconds of each measured run (warm-up runs are never in here)."""

    runs: tuple[float, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "n": len(self.runs),
            "p50_ms": _ms(percentile(self.runs, 50)),
            "p95_ms": _ms(percentile(self.runs, 95)),
            "p99_ms": _ms(percentile(self.runs, 99)),
            "max_ms": _ms(max(self.runs) if self.runs else math.nan),
        }


def _ms(seconds: float) -> float | None:
    return None if math.isnan(seconds) else round(seconds * 1000, 3)
