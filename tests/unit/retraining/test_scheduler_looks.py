"""Which look the scheduler loop takes on a tick: the minute slots since the last tick, or a full sweep
(first tick, after a pause longer than MAX_SLOTS minutes). The integration tests cannot tell the two apart
reliably, since a batch's own wake-up may send a due command first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from prometheus_client import CollectorRegistry

from services.retraining.adapters.store import RetrainingDocuments
from services.retraining.domain.rules import Rules
from services.retraining.domain.state import RetrainingState
from services.retraining.entrypoints.scheduler import Scheduler
from shared.messaging.publisher import KafkaPublisher


class Looks:
    """Records what the loop asked the store for; holds no deployment."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def in_slot(self, slot: datetime) -> AsyncIterator[RetrainingState]:
        self.asked.append(f"slot {slot:%H:%M}")
        return
        yield

    async def due(self, now: datetime) -> AsyncIterator[RetrainingState]:
        self.asked.append(f"sweep {now:%H:%M}")
        return
        yield


async def test_slots_since_the_last_tick_then_a_sweep_after_a_long_pause() -> None:
    now = datetime(2026, 11, 1, 12, 0, 30, tzinfo=UTC)
    looks = Looks()
    scheduler = Scheduler(
        cast(RetrainingDocuments, looks),
        cast(KafkaPublisher, object()),
        Rules(),
        service="retraining",
        metrics=CollectorRegistry(),
        clock=lambda: now,
    )
    ticks: list[Any] = []
    ticks.append(await scheduler.tick())  # first tick: a sweep
    now += timedelta(minutes=2)
    ticks.append(await scheduler.tick())  # 12:00 through 12:02, one slot each
    now += timedelta(hours=3)
    ticks.append(await scheduler.tick())  # 180 minutes passed: a sweep
    assert ticks == [0, 0, 0]
    assert looks.asked == ["sweep 12:00", "slot 12:00", "slot 12:01", "slot 12:02", "sweep 15:02"]
