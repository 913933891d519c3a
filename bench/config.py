"""The benchmark's settings: command-line flags, with defaults sized for a full run in under ~6 minutes.

Why the ingest default is 4,000 events over 400 deployments and not tens of thousands over 2,000:
FerretDB v1 (SQLite) reads the whole collection for every update, even one by `_id`, so each document
write costs time in proportion to the collection: ~15-22 ms at 400 documents, ~52-58 ms at 2,000
(measured on the 2-core machine, FerretDB shared with other clients). The projection writes each
document a batch touches once, baseline (b) once per event; at 2,000 deployments, 20,000 events
would take ~16 minutes for the projection and ~19 for (b). 3,000 events over 2,000 deployments run
(batches of ~450 existing documents, written in commands of 50) in ~5.5 minutes for the ingest alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from shared.service.settings import ServiceSettings

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("ingest", "queries", "latency")


@dataclasses.dataclass(frozen=True)
class Config:
    kafka: str
    mongo_url: str
    events: int
    deployments: int
    batch: int
    partitions: int
    query_deployments: int
    query_runs: int
    query_warmup: int
    query_budget_s: float
    query_probe: int
    full_size_probe: bool
    http: bool
    latency_seconds: float
    latency_rate: float
    latency_deployments: int
    seed: int
    db_timeout_s: float
    phases: tuple[str, ...]
    out: Path
    profile: Path | None


def parse_args(argv: Sequence[str] | None = None) -> Config:
    defaults = ServiceSettings()
    parser = argparse.ArgumentParser(
        prog="python -m bench.inventory",
        description="Inventory ingest, query and latency benchmarks beside raw baselines.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=4000, help="ingest: events in total (>= --deployments)")
    parser.add_argument("--deployments", type=int, default=400, help="ingest: deployments the events are about")
    parser.add_argument(
        "--batch", type=int, default=defaults.consumer.batch_max_records, help="ingest: max records a batch"
    )
    parser.add_argument("--partitions", type=int, default=defaults.kafka.topic_partitions, help="partitions per topic")
    parser.add_argument(
        "--query-deployments",
        type=int,
        default=100_000,
        help="queries: deployments wanted; measured at the largest size that fits --query-budget",
    )
    parser.add_argument("--query-runs", type=int, default=30, help="queries: measured runs of each query")
    parser.add_argument("--query-warmup", type=int, default=3, help="queries: warm-up runs, not measured")
    parser.add_argument(
        "--query-budget", type=float, default=150.0, help="queries: seconds for loading and all runs together"
    )
    parser.add_argument("--query-probe", type=int, default=300, help="queries: size loaded first to calibrate")
    parser.add_argument(
        "--full-size-probe",
        action="store_true",
        help="queries: afterwards load up to --query-deployments and time ONE run of each query there",
    )
    parser.add_argument("--no-http", action="store_true", help="queries: skip the HTTP variants")
    parser.add_argument("--latency-seconds", type=float, default=15.0, help="latency: publishing time (0: skip)")
    parser.add_argument("--latency-rate", type=float, default=20.0, help="latency: events per second")
    parser.add_argument("--latency-deployments", type=int, default=20, help="latency: deployments the events touch")
    parser.add_argument(
        "--only", action="append", choices=PHASES, help="run only this phase (repeatable); default: all"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--db-timeout", type=float, default=600.0, help="seconds one database call may take before the run fails"
    )
    parser.add_argument("--kafka", default=os.getenv("LIFECYCLE_TEST_KAFKA") or defaults.kafka.bootstrap_servers)
    parser.add_argument("--mongo-url", default=os.getenv("LIFECYCLE_TEST_MONGO_URL") or defaults.mongo.url)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "inventory.json")
    parser.add_argument("--profile", type=Path, help="write a cProfile report of the projection run to this file")
    args = parser.parse_args(argv)
    if args.events < args.deployments:
        parser.error("--events must be at least --deployments (one DeploymentCreated each)")
    return Config(
        kafka=args.kafka,
        mongo_url=args.mongo_url,
        events=args.events,
        deployments=args.deployments,
        batch=args.batch,
        partitions=args.partitions,
        query_deployments=args.query_deployments,
        query_runs=args.query_runs,
        query_warmup=args.query_warmup,
        query_budget_s=args.query_budget,
        query_probe=max(1, min(args.query_probe, args.query_deployments)),
        full_size_probe=args.full_size_probe,
        http=not args.no_http,
        latency_seconds=args.latency_seconds,
        latency_rate=args.latency_rate,
        latency_deployments=args.latency_deployments,
        seed=args.seed,
        db_timeout_s=args.db_timeout,
        phases=tuple(args.only or PHASES),
        out=args.out,
        profile=args.profile,
    )
