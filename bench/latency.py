"""Publish -> visible latency at steady rates through the running inventory app, over the whole fleet.

The app is `create_app` with its real lifespan: its FastStream subscriber with the default batch
settings, on the fleet's database. Events are published one by one at the given rate through the
shared KafkaPublisher, about deployments drawn from the whole fleet; an event is visible when the
app's batch handler returns for its batch (the projection's write is acknowledged, so any read after
it sees the event). Both timestamps are taken in this process, so no clocks need to agree.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from bench import data
from bench.config import Config
from bench.infra import ready_topics, say
from bench.stats import Latencies
from services.inventory.bootstrap import create_app
from services.inventory.settings import InventorySettings
from shared.messaging.consumer import BatchConsumer, Inbound
from shared.messaging.publisher import standalone_publisher


async def bench_latency(cfg: Config, settings: InventorySettings, size: int) -> list[dict[str, Any]]:
    await ready_topics(cfg.kafka, settings.topics, cfg.partitions)
    app = create_app(settings)
    consumer: BatchConsumer = app.state.consumer
    applied_at: dict[str, float] = {}
    handler = consumer.handler

    async def recording(batch: Sequence[Inbound]) -> object:
        result = await handler(batch)
        now = time.perf_counter()
        for inbound in batch:
            applied_at.setdefault(inbound.envelope.id, now)
        return result

    consumer.handler = recording
    rng = random.Random(cfg.seed + 1)
    kinds, weights = zip(*data.INGEST_MIX, strict=True)
    sent_at: dict[str, float] = {}
    start_time = data.T0 + timedelta(days=30)  # after everything the ingest phase wrote
    results = []
    async with (
        app.router.lifespan_context(app),
        standalone_publisher(cfg.kafka, settings.topics, "bench/upstream") as publisher,
    ):
        tasks: list[asyncio.Task[Any]] = []

        def publish(number: int) -> str:
            at = start_time + timedelta(milliseconds=number)
            message = data.monitoring_event(
                rng.choices(kinds, weights)[0], data.deployment_id(rng.randrange(size)), at, rng
            )
            event_id = str(uuid.uuid4())
            sent_at[event_id] = time.perf_counter()
            tasks.append(asyncio.create_task(publisher.publish(message, event_id=event_id, time=at, actor="bench")))
            return event_id

        # Warm-up, not measured: the consumer joins its group and gets its partitions.
        if not await _until_applied([publish(n) for n in range(20)], applied_at, 60):
            raise RuntimeError("latency: the app did not apply the warm-up events within 60s")
        published = 20
        for rate in cfg.latency_rates:
            say(f"latency: {rate:g} events/s for {cfg.latency_seconds:g}s through the running app")
            measured: list[str] = []
            started = time.perf_counter()
            for i in range(int(cfg.latency_seconds * rate)):
                await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
                measured.append(publish(published))
                published += 1
            send_s = time.perf_counter() - started
            await asyncio.gather(*tasks)
            tasks.clear()
            complete = await _until_applied(measured, applied_at, cfg.latency_drain_s)
            seen = [applied_at[i] - sent_at[i] for i in measured if i in applied_at]
            results.append(
                {
                    "rate_per_s": rate,
                    "achieved_rate_per_s": round(len(measured) / send_s, 1),
                    "seconds": cfg.latency_seconds,
                    "events": len(measured),
                    "visible": len(seen),
                    "complete": complete,
                    "deployments": size,
                    "batch_max_records": settings.consumer.batch_max_records,
                    "batch_timeout_ms": settings.consumer.batch_timeout_ms,
                    "latency": Latencies(tuple(seen)).as_json(),
                }
            )
    return results


async def _until_applied(ids: Sequence[str], applied_at: dict[str, float], within: float) -> bool:
    deadline = time.perf_counter() + within
    while time.perf_counter() < deadline:
        if all(i in applied_at for i in ids):
            return True
        await asyncio.sleep(0.01)
    return False
