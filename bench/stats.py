"""Small measurement helpers: percentiles and their ratios, resident memory."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import os
import resource
from collections.abc import AsyncIterator, Sequence
from typing import Any

_PAGE = os.sysconf("SC_PAGE_SIZE")


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

    @property
    def p50(self) -> float:
        return percentile(self.runs, 50)

    @property
    def p95(self) -> float:
        return percentile(self.runs, 95)

    @property
    def p99(self) -> float:
        return percentile(self.runs, 99)

    @property
    def mean(self) -> float:
        return sum(self.runs) / len(self.runs) if self.runs else math.nan

    @property
    def max(self) -> float:
        return max(self.runs) if self.runs else math.nan

    def as_json(self) -> dict[str, Any]:
        return {
            "n": len(self.runs),
            "p50_ms": _ms(self.p50),
            "p95_ms": _ms(self.p95),
            "p99_ms": _ms(self.p99),
            "mean_ms": _ms(self.mean),
            "max_ms": _ms(self.max),
        }


def _ms(seconds: float) -> float | None:
    return None if math.isnan(seconds) else round(seconds * 1000, 3)


def ratios_to_driver(results: dict[str, Latencies]) -> dict[str, dict[str, float]]:
    """p50 and p95 of each "<query>.store" and "<query>.http" over those of "<query>.driver"."""
    ratios = {}
    for key, own in results.items():
        name, path = key.split(".")
        driver = results.get(f"{name}.driver")
        if driver is not None and path != "driver":
            ratios[f"{key}/driver"] = {"p50": round(own.p50 / driver.p50, 3), "p95": round(own.p95 / driver.p95, 3)}
    return ratios


def nice_floor(value: float) -> int:
    """Round down to two significant digits (1234 -> 1200), so sizes read well."""
    if value < 10:
        return max(1, int(value))
    magnitude = 10 ** (int(math.log10(value)) - 1)
    return int(value // magnitude * magnitude)


def current_rss_bytes() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE


def peak_rss_bytes() -> int:
    """The process's high-water mark so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class RssSampler:
    """Samples the resident set every `interval` seconds while a block runs; `peak` is the highest seen."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak = 0
        self.start = 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RssSampler]:
        self.start = self.peak = current_rss_bytes()

        async def sample() -> None:
            while True:
                self.peak = max(self.peak, current_rss_bytes())
                await asyncio.sleep(self.interval)

        task = asyncio.create_task(sample())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.peak = max(self.peak, current_rss_bytes())
