"""Publish -> visible latency at a steady rate through the running app (`create_app` with its lifespan).

Events go through the shared KafkaPublisher, Kafka and the app's own FastStream subscriber with its
default batch settings; an event is visible when `InventoryStore.apply` returns for its batch (its
bulk write is acknowledged, so any read after it sees the event). Timestamps are taken in the same
process, so no clocks need to agree.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import data
from bench.config import Config
from bench.infra import say, wait_for_leaders
from bench.stats import Latencies
from services.inventory.adapters.store import InventoryStore
from services.inventory.bootstrap import create_app
from services.inventory.settings import InventorySettings
from shared.contract.messages import Message
from shared.messaging.admin import ensure_topics
from shared.messaging.consumer import Inbound
from shared.messaging.publisher import KafkaPublisher


async def bench_latency(cfg: Config, namespace: str, database: str) -> dict[str, Any]:
    settings = InventorySettings(
        kafka={"bootstrap_servers": cfg.kafka, "topic_namespace": namespace, "topic_partitions": cfg.partitions},
        mongo={"url": cfg.mongo_url, "database": database},
        log={"level": "WARNING", "json": False},
    )
    # Created here first (as the app would) so that its consumer does not start on leaderless partitions.
    await ensure_topics(cfg.kafka, settings.topics, cfg.partitions)
    await wait_for_leaders(cfg.kafka, settings.topics.all())
    app = create_app(settings)
    store: InventoryStore = app.state.store
    applied_at: dict[str, float] = {}
    apply = store.apply

    async def recording(batch: Sequence[Inbound]) -> int:
        count = await apply(batch)
        now = time.perf_counter()
        for inbound in batch:
            applied_at.setdefault(inbound.envelope.id, now)
        return count

    store.apply = recording  # type: ignore[method-assign]
    rng = random.Random(cfg.seed + 1)
    publisher = KafkaPublisher(cfg.kafka, settings.topics, source="bench/upstream")
    sent_at: dict[str, float] = {}
    tasks: list[asyncio.Task[Any]] = []

    def publish(message: Message) -> str:
        event_id = str(uuid.uuid4())
        sent_at[event_id] = time.perf_counter()
        tasks.append(asyncio.create_task(publisher.publish(message, event_id=event_id, actor="bench")))
        return event_id

    async def until_applied(ids: Sequence[str], within: float) -> bool:
        deadline = time.perf_counter() + within
        while time.perf_counter() < deadline:
            if all(i in applied_at for i in ids):
                return True
            await asyncio.sleep(0.01)
        return False

    async with app.router.lifespan_context(app):
        await publisher.start()
        try:
            # Warm-up: the consumer joins its group and has the deployments; not measured.
            warm = [publish(data.created_event(n, rng)) for n in range(cfg.latency_deployments)]
            if not await until_applied(warm, 60):
                raise RuntimeError("latency: the app did not apply the warm-up events within 60s")
            say(f"latency: publishing {cfg.latency_rate:g}/s for {cfg.latency_seconds:g}s through the running app")
            kinds = [kind for kind, _ in data.INGEST_MIX]
            weights = [weight for _, weight in data.INGEST_MIX]
            measured: list[str] = []
            start = time.perf_counter()
            count = int(cfg.latency_seconds * cfg.latency_rate)
            for i in range(count):
                await asyncio.sleep(max(0.0, start + i / cfg.latency_rate - time.perf_counter()))
                subject = data.deployment_id(rng.randrange(cfg.latency_deployments))
                at = datetime.now(UTC) + timedelta(microseconds=i)
                measured.append(publish(data.monitoring_event(rng.choices(kinds, weights)[0], subject, at, rng)))
            send_s = time.perf_counter() - start
            await asyncio.gather(*tasks)
            complete = await until_applied(measured, 60)
        finally:
            await publisher.stop()
    seen = [applied_at[i] - sent_at[i] for i in measured if i in applied_at]
    return {
        "how": "shared KafkaPublisher -> Kafka -> the inventory app (create_app, real lifespan and FastStream "
        "subscriber, default batch settings) -> visible when InventoryStore.apply returns (its bulk write "
        "is acknowledged); timestamps in the same process",
        "rate_per_s": cfg.latency_rate,
        "achieved_rate_per_s": round(len(measured) / send_s, 1) if send_s else None,
        "deployments": cfg.latency_deployments,
        "events": len(measured),
        "visible": len(seen),
        "complete": complete,
        "batch_max_records": settings.consumer.batch_max_records,
        "batch_timeout_ms": settings.consumer.batch_timeout_ms,
        "latency": Latencies(tuple(seen)).as_json(),
    }
