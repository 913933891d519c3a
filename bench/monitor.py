"""Where the database time goes: a PyMongo command listener that adds up round trips per command.

Registered once for the process (so every client, including the ones the services build, reports
the same way); `phase` names the bucket the following commands are added to. It can also keep a copy
of the commands a piece of code sends, so a raw baseline can replay exactly the same queries.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

from pymongo import monitoring

_KEPT = frozenset({"find", "aggregate", "count", "update", "insert", "delete"})


@dataclasses.dataclass
class CommandTotals:
    calls: int = 0
    seconds: float = 0.0
    failures: int = 0


@dataclasses.dataclass(frozen=True)
class Captured:
    name: str
    collection: str
    body: dict[str, Any]


class CommandStats(monitoring.CommandListener):
    def __init__(self) -> None:
        self.phase = "setup"
        self.totals: dict[str, dict[str, CommandTotals]] = {}
        self._pending: dict[tuple[int, int], str] = {}
        self._capture: list[Captured] | None = None

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        collection = event.command.get(name) if name in _KEPT else None
        key = f"{name} {collection}" if isinstance(collection, str) else name
        self._pending[(event.request_id, event.operation_id or 0)] = key
        if self._capture is not None and name in _KEPT and isinstance(collection, str):
            body = {k: copy.deepcopy(v) for k, v in event.command.items() if not k.startswith(("$", "lsid"))}
            self._capture.append(Captured(name, collection, body))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._finish(event.request_id, event.operation_id or 0, event.duration_micros, failed=False)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._finish(event.request_id, event.operation_id or 0, event.duration_micros, failed=True)

    def _finish(self, request_id: int, operation_id: int, micros: int, *, failed: bool) -> None:
        key = self._pending.pop((request_id, operation_id), "unknown")
        totals = self.totals.setdefault(self.phase, {}).setdefault(key, CommandTotals())
        totals.calls += 1
        totals.seconds += micros / 1e6
        totals.failures += int(failed)

    @contextlib.contextmanager
    def in_phase(self, phase: str) -> Iterator[None]:
        previous, self.phase = self.phase, phase
        try:
            yield
        finally:
            self.phase = previous

    @contextlib.contextmanager
    def capturing(self) -> Iterator[list[Captured]]:
        captured: list[Captured] = []
        self._capture = captured
        try:
            yield captured
        finally:
            self._capture = None

    def phase_json(self, phase: str) -> dict[str, Any]:
        return {
            key: {"calls": t.calls, "seconds": round(t.seconds, 4), "failures": t.failures}
            for key, t in sorted(self.totals.get(phase, {}).items(), key=lambda item: -item[1].seconds)
        }


STATS = CommandStats()
monitoring.register(STATS)
