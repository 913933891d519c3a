"""Inventory benchmarks, each beside a raw baseline in the same process, on the same data and database.

    python -m bench.inventory [--events N] [--deployments N] [--query-deployments N] [--out FILE]

1. Ingest (bench.ingest): events/s from Kafka into the projection through the real consumer path,
   beside (a) the same consume without processing and (b) raw bulk upserts of the same documents.
2. Queries (bench.queries): page, summary and one deployment through the store, the driver and HTTP,
   at the largest size that fits --query-budget, extrapolated to --query-deployments.
3. Publish -> visible latency (bench.latency) at a steady rate through the running app.

Kafka and the database must be running (`make infra-up`); everything here lives in its own topic
namespace and databases, dropped at the end, so it can run beside tests on the same servers.
Warm-up is never measured; the projection and the raw queries are checked for the same answers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import platform
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import Config, parse_args
from bench.infra import bench_mongo_url, check_infrastructure, cleanup, git_commit, say
from bench.ingest import bench_ingest
from bench.latency import bench_latency
from bench.queries import bench_queries
from bench.report import render, write_json
from shared.service.logging import configure_logging
from shared.storage.mongo import mongo_client


async def run(cfg: Config) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    namespace, latency_namespace = f"bench-{run_id}", f"bench-{run_id}-latency"
    databases = [f"bench_{run_id}_ingest", f"bench_{run_id}_query", f"bench_{run_id}_latency"]
    database_info = await check_infrastructure(cfg)
    say(f"run {run_id}: topics {namespace}.*, databases bench_{run_id}_*")
    started = time.perf_counter()
    results: dict[str, Any] = {
        "run_id": run_id,
        "started_at": datetime.now(UTC).isoformat(),
        "git_commit": git_commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "kafka": cfg.kafka,
        "database": {"url": cfg.mongo_url, **database_info},
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(cfg).items()},
    }
    client = mongo_client(bench_mongo_url(cfg.mongo_url, cfg.db_timeout_s))
    try:
        ingest_document = None  # the queries phase checks its generated documents against it
        if "ingest" in cfg.phases:
            ferretdb = bool(database_info.get("ferretdb"))
            results["ingest"], ingest_document = await bench_ingest(cfg, namespace, client[databases[0]], ferretdb)
        if "queries" in cfg.phases:
            results["queries"] = await bench_queries(cfg, namespace, client[databases[1]], ingest_document)
        if "latency" in cfg.phases and cfg.latency_seconds > 0:
            results["latency"] = await bench_latency(cfg, latency_namespace, databases[2])
    finally:
        await client.close()
        say("cleanup: dropping databases and topics")
        await cleanup(cfg, databases, [namespace, latency_namespace])
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    cfg = parse_args(argv)
    # The consumer path logs every event at debug; keep the table readable, as a service at WARNING.
    configure_logging("bench", "WARNING", json=False)
    results = asyncio.run(run(cfg))
    print(render(results))
    write_json(cfg.out, results)
    say(f"results written to {cfg.out}")


if __name__ == "__main__":
    main()
