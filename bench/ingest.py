"""Ingest: events/s from Kafka into the projection, with the fleet already in the collection.

The events are spread uniformly over every deployment of the fleet, so nearly every event changes a
different document. Three paths over the same records and the same database, in this order:
- raw consume: a plain aiokafka consumer, getmany(max_records=batch) over the assigned partitions and
  a commit per batch, doing nothing else: what Kafka alone allows;
- projection: the same loop handing each batch to the inventory's own consumer path as its composition
  root builds it (`app.state.consumer.process`: decode, validate, isolate failures, ProjectionHandler,
  InventoryStore.apply with its ledger claims, reads and guarded bulk writes, summary counters);
- PyMongo guarded writes: for each event, in the order consumed, `replace_one({_id, _rev}, document)`
  of the document the projection ended with, one at a time: a write per event straight to the database.
Afterwards every deployment's predictions total must have grown by exactly its events' counts, and
(at the first size, up to 10,000) the summary counters must equal a recount of every document.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench import data
from bench.capture import COMMANDS
from bench.config import Config
from bench.infra import ready_topics, say
from bench.pgfloor import PgFloor
from services.inventory.adapters.store import InventoryStore
from services.inventory.domain.state import DeploymentView
from services.inventory.domain.summary import Tiles
from shared.contract.topology import Topics
from shared.messaging.consumer import BatchConsumer
from shared.storage.layout import unpacked
from shared.storage.mongo import Document

_STALL_S = 60.0  # a consumer that gets nothing for this long while records are still expected has stalled
_POINT_READS = 16  # concurrent reads when checking documents (not measured)
_RECOUNT_UP_TO = 10_000

BatchFn = Callable[[list[Any]], Awaitable[None]]


async def produce(cfg: Config, records: Sequence[data.Record]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=cfg.kafka, enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(r.topic, value=r.value, key=r.key, headers=r.headers) for r in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def consume_all(cfg: Config, topics: Topics, group: str, expected: int, on_batch: BatchFn) -> list[str]:
    """Read every record from the start in batches as the FastStream subscriber does, hand each batch
    on, commit; returns the record keys in the order consumed."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=cfg.kafka, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        # Assigned rather than subscribed, so that no group rebalance is part of the measurement.
        partitions = [
            TopicPartition(topic, p)
            for topic in (topics.deployment_events, topics.monitoring_events)
            for p in range(cfg.partitions)
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        keys: list[str] = []
        last_progress = time.perf_counter()
        while len(keys) < expected:
            fetched = await consumer.getmany(timeout_ms=1000, max_records=cfg.batch)
            records = [record for part in fetched.values() for record in part]
            if not records:
                if time.perf_counter() - last_progress > _STALL_S:
                    raise RuntimeError(f"{group}: stalled at {len(keys)}/{expected} records")
                continue
            await on_batch(records)
            await consumer.commit()
            keys += [record.key.decode() for record in records]
            last_progress = time.perf_counter()
        return keys
    finally:
        await consumer.stop()


async def _documents(store: InventoryStore, ids: Sequence[str]) -> dict[str, Document]:
    gate = asyncio.Semaphore(_POINT_READS)

    async def one(deployment_id: str) -> Document | None:
        async with gate:
            return await store.collection.find_one({"_id": deployment_id})

    found = await asyncio.gather(*(one(i) for i in ids))
    return {document["_id"]: document for document in found if document is not None}


def _predictions(document: Document) -> int:
    return unpacked(DeploymentView, document).predictions.total


async def guarded_writes(store: InventoryStore, documents: dict[str, Document], order: Sequence[str]) -> float:
    """One `replace_one({_id, _rev})` per event, one at a time; returns the seconds taken."""
    revision = {key: document["_rev"] for key, document in documents.items()}
    collection = store.collection
    started = time.perf_counter()
    for key in order:
        result = await collection.replace_one(
            {"_id": key, "_rev": revision[key]}, {**documents[key], "_rev": revision[key] + 1}
        )
        if result.matched_count != 1:
            raise RuntimeError(f"guarded write of {key} at revision {revision[key]} matched nothing")
        revision[key] += 1
    return time.perf_counter() - started


async def bench_ingest(
    cfg: Config, consumer: BatchConsumer, store: InventoryStore, floor: PgFloor | None, namespace: str, size: int
) -> dict[str, Any]:
    topics = Topics(namespace)
    await ready_topics(cfg.kafka, topics, cfg.partitions)
    start = data.T0 + timedelta(days=1 + cfg.sizes.index(size))  # after the fleet's events and earlier runs'
    dataset = data.ingest_data(namespace, size, cfg.ingest_events, cfg.seed, start)
    events = len(dataset.records)
    await produce(cfg, dataset.records)

    async def nothing(_: list[Any]) -> None:
        return None

    say(f"ingest at {size:,}: raw consume of {events:,} events")
    started = time.perf_counter()
    await consume_all(cfg, topics, f"{namespace}.raw", events, nothing)
    raw_consume_s = time.perf_counter() - started

    touched = sorted({record.key.decode() for record in dataset.records})
    before = {key: _predictions(document) for key, document in (await _documents(store, touched)).items()}

    async def project(records: list[Any]) -> None:
        await consumer.process(records)

    say(f"ingest at {size:,}: projection (the inventory's consumer path)")
    phase = f"ingest.{size}"
    started = time.perf_counter()
    with COMMANDS.in_phase(phase):
        order = await consume_all(cfg, topics, f"{namespace}.inventory", events, project)
    projection_s = time.perf_counter() - started

    after = await _documents(store, touched)
    expected = {key: before.get(key, 0) + dataset.predictions.get(key, 0) for key in touched}
    found = {key: _predictions(after[key]) if key in after else None for key in touched}
    wrong = {key: (expected[key], found[key]) for key in touched if found[key] != expected[key]}
    if wrong:
        say(f"ingest at {size:,}: WRONG predictions on {len(wrong)} deployments, e.g. {list(wrong.items())[:3]}")

    say(f"ingest at {size:,}: PyMongo guarded replace_one, {events:,} one at a time")
    guarded_s = await guarded_writes(store, after, order)
    if floor is not None:
        await floor.upsert(store.collection.name, list((await _documents(store, touched)).values()))

    # The maintained summary counters against a recount of every document (a full scan: done once, at
    # the first size, if small).
    exact = None
    if size == cfg.sizes[0] and size <= _RECOUNT_UP_TO:
        views = [unpacked(DeploymentView, d) async for d in store.collection.find({})]
        exact = dict(Tiles.of(views).counts) == await store.counters.read(None)
        if not exact:
            say(f"ingest at {size:,}: the summary counters differ from a recount")
    rates = {
        "projection": events / projection_s,
        "pymongo_guarded_writes": events / guarded_s,
        "raw_consume": events / raw_consume_s,
    }
    return {
        "deployments": size,
        "events": events,
        "deployments_touched": len(touched),
        "events_per_s": {key: round(value, 1) for key, value in rates.items()},
        "seconds": {
            "projection": round(projection_s, 3),
            "pymongo_guarded_writes": round(guarded_s, 3),
            "raw_consume": round(raw_consume_s, 3),
        },
        "projection_over_guarded_writes": round(rates["projection"] / rates["pymongo_guarded_writes"], 3),
        "projection_correct": not wrong,
        "summary_counters_equal_recount": exact,
        "projection_database_seconds": COMMANDS.seconds_by_command(phase),
    }
