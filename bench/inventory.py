"""Inventory benchmarks at fleet size, each figure beside raw baselines measured in the same run.

    python -m bench.inventory [--sizes 1000,10000,100000] [--mongo-url URL] [--postgres-url URL] [--quick]

The fleet collection is grown to each size in turn (bench.fleet: bulk inserts of documents the domain
built, checked against what the store writes); at each size:
1. ingest (bench.ingest): events/s through the inventory's consumer path, beside PyMongo's guarded
   writes one by one and a raw batched consume of the same events;
2. queries (bench.queries), at the query sizes: get by id, summary, a filtered sorted page, over HTTP
   and through the store, beside the same commands through PyMongo and as SQL in PostgreSQL itself.
Then, on the full fleet: 3. publish -> visible latency at steady rates through the running app.

One app instance (`create_app`, its lifespan not started) supplies the consumer path, the store and
the routes for 1 and 2; 3 starts a second one for real. Everything lives in the run's own topics and
databases, dropped at the end, so it can run beside tests on the same servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import platform
import signal
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import data
from bench.config import Config, parse_args
from bench.fleet import Fleet
from bench.infra import bench_mongo_url, cleanup, database_name, describe_database, git_commit, ready_topics, say
from bench.ingest import bench_ingest
from bench.latency import bench_latency
from bench.pgfloor import PgFloor
from bench.queries import ADMIN, ADMIN_TOKEN, TOKEN, bench_queries, http_client
from bench.report import render, write_json
from services.inventory.bootstrap import create_app
from services.inventory.settings import InventorySettings
from shared.contract.topology import Topics
from shared.service.logging import configure_logging
from shared.service.settings import ApiUser
from shared.storage.mongo import mongo_client


def app_settings(cfg: Config, namespace: str, database: str) -> InventorySettings:
    return InventorySettings(
        kafka={"bootstrap_servers": cfg.kafka, "topic_namespace": namespace, "topic_partitions": cfg.partitions},
        mongo={"url": bench_mongo_url(cfg.mongo_url, cfg.db_timeout_s), "database": database},
        log={"level": "WARNING", "json": False},
        api_tokens={
            TOKEN: ApiUser(user=data.CALLER.user, groups=data.CALLER.groups),
            ADMIN_TOKEN: ApiUser(user=ADMIN.user, admin=True),
        },
    )


async def open_floor(cfg: Config, database: str) -> tuple[PgFloor | None, str]:
    if cfg.postgres_url is None:
        return None, "PostgreSQL skipped (--no-postgres)"
    try:
        floor = await PgFloor.open(cfg.postgres_url, database)
    except Exception as exc:
        if cfg.postgres_required:
            raise SystemExit(f"PostgreSQL at {cfg.postgres_url} does not answer: {exc}") from exc
        note = f"PostgreSQL skipped: nothing answers at {cfg.postgres_url} (give --postgres-url)"
        say(note)
        return None, note
    return floor, floor.where


async def run(cfg: Config) -> dict[str, Any]:
    # A SIGTERM (a timeout, a CI runner) cancels the run like Ctrl-C does, so its clean-up still runs.
    main_task = asyncio.current_task()
    if main_task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    run_id = uuid.uuid4().hex[:8]
    prefix, database = f"bench-{run_id}", f"bench_{run_id}"
    described = await describe_database(cfg)
    say(f"run {run_id} on {database_name(described)}: topics {prefix}-*, database {database}")
    started = time.perf_counter()
    results: dict[str, Any] = {
        "run_id": run_id,
        "started_at": datetime.now(UTC).isoformat(),
        "git_commit": git_commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "kafka": cfg.kafka,
        "database": described,
        "database_name": database_name(described),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(cfg).items()},
        "ingest": [],
        "queries": [],
    }
    # Every topic of the run, made now: a partition can refuse writes for a moment after its creation.
    namespaces = [f"{prefix}-ingest-{size}" for size in cfg.sizes] + [f"{prefix}-latency"]
    await asyncio.gather(*(ready_topics(cfg.kafka, Topics(ns), cfg.partitions) for ns in namespaces))
    floor, results["postgres"] = await open_floor(cfg, database)
    app = create_app(app_settings(cfg, f"{prefix}-app", database))
    client = mongo_client(bench_mongo_url(cfg.mongo_url, cfg.db_timeout_s))
    fleet = Fleet(cfg, app.state.store, floor)
    try:
        await fleet.start(f"{prefix}-load")
        async with http_client(app) as http:
            for size in cfg.sizes:
                await fleet.grow_to(size)
                if "ingest" in cfg.phases:
                    namespace = f"{prefix}-ingest-{size}"
                    ingest = await bench_ingest(cfg, app.state.consumer, fleet.store, floor, namespace, size)
                    results["ingest"].append(ingest)
                if "queries" in cfg.phases and size in cfg.query_sizes:
                    say(f"queries at {size:,}")
                    timed = await bench_queries(cfg, fleet.store, http, client, floor, fleet.visible, fleet.sample)
                    results["queries"].append({"deployments": size, **timed})
        results["fleet_load_seconds"] = fleet.load_seconds
        if "latency" in cfg.phases and cfg.latency_seconds > 0:
            settings = app_settings(cfg, f"{prefix}-latency", database)
            results["latency"] = await bench_latency(cfg, settings, fleet.size)
    finally:
        fleet.close()
        await client.close()
        await app.state.runtime.mongo.close()
        if floor is not None:
            await floor.close()
        say("cleanup: dropping the run's databases and topics")
        await cleanup(cfg, [database], prefix)
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    cfg = parse_args(argv)
    # The consumer path logs every event at debug; keep the output readable, as a service at WARNING.
    configure_logging("bench", "WARNING", json=False)
    try:
        # What the services log during the run goes to stderr with the progress lines; stdout gets the tables.
        with contextlib.redirect_stdout(sys.stderr):
            results = asyncio.run(run(cfg))
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise SystemExit("bench: interrupted (its databases and topics were dropped)") from None
    table = render(results)
    print(table)
    write_json(cfg.out, results)
    with contextlib.suppress(OSError):
        cfg.out.with_suffix(".md").write_text(table + "\n")
    say(f"results written to {cfg.out} and {cfg.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
