"""The benchmark's settings: command-line flags, with defaults for the full run at fleet size."""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from shared.service.settings import ServiceSettings

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("ingest", "queries", "latency")
# Where infra/postgres.sh serves the PostgreSQL under the local FerretDB (same env variable and default).
DEFAULT_POSTGRES_URL = f"postgresql://postgres@127.0.0.1:{os.getenv('LIFECYCLE_PG_PORT', '54329')}/postgres"


@dataclasses.dataclass(frozen=True)
class Config:
    kafka: str
    mongo_url: str
    postgres_url: str | None
    postgres_required: bool  # given on the command line: fail if unreachable, rather than skip the floor
    sizes: tuple[int, ...]
    query_sizes: tuple[int, ...]
    ingest_events: int
    batch: int
    partitions: int
    query_runs: int
    query_min_runs: int
    query_warmup: int
    query_seconds: float
    slow_query_s: float
    latency_seconds: float
    latency_rates: tuple[float, ...]
    latency_drain_s: float  # how long to wait for the last events of a rate before calling them not visible
    phases: tuple[str, ...]
    seed: int
    db_timeout_s: float
    load_workers: int
    out: Path


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()}))


def parse_args(argv: Sequence[str] | None = None) -> Config:
    defaults = ServiceSettings()
    parser = argparse.ArgumentParser(
        prog="python -m bench.inventory",
        description="Inventory ingest, query and publish->visible benchmarks at fleet size, each beside raw "
        "baselines measured in the same run on the same data (PyMongo on the same database, PostgreSQL itself).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--sizes", default="1000,10000,100000", help="deployments in the collection, grown in turn")
    parser.add_argument(
        "--query-sizes", help="sizes at which the queries are timed (default: those >= 10000, else the largest)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 1000 deployments, short phases (~1 min)")
    parser.add_argument("--ingest-events", type=int, default=5000, help="events per ingest run, over all deployments")
    parser.add_argument("--batch", type=int, default=defaults.consumer.batch_max_records, help="max records a batch")
    parser.add_argument("--partitions", type=int, default=defaults.kafka.topic_partitions, help="partitions per topic")
    parser.add_argument("--query-runs", type=int, default=200, help="measured runs of each query and path, at most")
    parser.add_argument("--query-min-runs", type=int, default=1, help="measured runs, at least (slow queries)")
    parser.add_argument("--query-warmup", type=int, default=3, help="unmeasured runs first")
    parser.add_argument("--query-seconds", type=float, default=20.0, help="time budget of each query and path")
    parser.add_argument(
        "--slow-query-seconds", type=float, default=60.0, help="a query slower than this is run once, store only"
    )
    parser.add_argument("--latency-seconds", type=float, default=60.0, help="publishing time at each rate (0: skip)")
    parser.add_argument("--latency-rates", default="100,500", help="events per second, one run each")
    parser.add_argument("--only", action="append", choices=PHASES, help="run only this phase (repeatable)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db-timeout", type=float, default=900.0, help="seconds one database call may take")
    parser.add_argument("--load-workers", type=int, default=max(1, min(4, (os.cpu_count() or 2) - 1)))
    parser.add_argument("--kafka", default=os.getenv("LIFECYCLE_TEST_KAFKA") or defaults.kafka.bootstrap_servers)
    parser.add_argument("--mongo-url", default=os.getenv("LIFECYCLE_TEST_MONGO_URL") or defaults.mongo.url)
    parser.add_argument(
        "--postgres-url",
        help=f"PostgreSQL for the floor (a database is created and dropped there); default {DEFAULT_POSTGRES_URL}, "
        "skipped with a note if it does not answer",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL floor")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "inventory.json")
    args = parser.parse_args(argv)
    sizes = (1000,) if args.quick else _numbers(args.sizes)
    if not sizes or sizes[0] < 1:
        parser.error("--sizes needs positive deployment counts")
    query_sizes = _numbers(args.query_sizes) if args.query_sizes else tuple(s for s in sizes if s >= 10_000)
    query_sizes = query_sizes or sizes[-1:]
    if not set(query_sizes) <= set(sizes):
        parser.error("--query-sizes must be among --sizes")
    postgres_url = None if args.no_postgres else args.postgres_url or DEFAULT_POSTGRES_URL
    return Config(
        kafka=args.kafka,
        mongo_url=args.mongo_url,
        postgres_url=postgres_url,
        postgres_required=bool(args.postgres_url) and not args.no_postgres,
        sizes=sizes,
        query_sizes=query_sizes,
        ingest_events=min(args.ingest_events, 500) if args.quick else args.ingest_events,
        batch=args.batch,
        partitions=args.partitions,
        query_runs=min(args.query_runs, 50) if args.quick else args.query_runs,
        query_min_runs=args.query_min_runs,
        query_warmup=min(args.query_warmup, 1) if args.quick else args.query_warmup,
        query_seconds=min(args.query_seconds, 2.0) if args.quick else args.query_seconds,
        slow_query_s=args.slow_query_seconds,
        latency_seconds=min(args.latency_seconds, 5.0) if args.quick else args.latency_seconds,
        latency_rates=tuple(float(r) for r in args.latency_rates.split(",") if r.strip()),
        latency_drain_s=15.0 if args.quick else 120.0,
        phases=tuple(args.only or PHASES),
        seed=args.seed,
        db_timeout_s=args.db_timeout,
        load_workers=args.load_workers,
        out=args.out,
    )
