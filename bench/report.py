"""The results as markdown tables (for the README) and as JSON, with the issue's targets checked."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

QUERY_NAMES = {
    "get": "get by id",
    "summary": "summary tiles",
    "summary_admin": "summary tiles, admin",
    "page": "filtered sorted page",
}
PATH_NAMES = {"http": "HTTP", "store": "store", "pymongo": "PyMongo", "postgresql": "PostgreSQL"}
TARGET_SIZE = 100_000


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")


def _n(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def _table(headers: Sequence[str], align: str, rows: Sequence[Sequence[str]]) -> list[str]:
    rule = ["---:" if a == "r" else ":---:" if a == "c" else "---" for a in align]
    return ["| " + " | ".join(line) + " |" for line in [list(headers), rule, *rows]]


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        f"### Inventory benchmark on {results['database_name']}",
        "",
        f"Run {results['run_id']} at {results['started_at'][:16]}Z, commit {results['git_commit']}, "
        f"{machine['cpus']} CPUs, Python {machine['python']}, {results['wall_seconds'] / 60:.1f} min in all. "
        f"Floor: {results['postgres']}.",
    ]
    if results.get("ingest"):
        lines += ["", *render_ingest(results["ingest"])]
    if results.get("queries"):
        lines += ["", *render_queries(results["queries"])]
    if results.get("latency"):
        lines += ["", *render_latency(results["latency"])]
    lines += ["", "**Targets** (issue 7)", "", *(f"- {text}" for text in targets(results))]
    return "\n".join(lines)


def render_ingest(runs: list[dict[str, Any]]) -> list[str]:
    first = runs[0]
    rows = [
        [
            f"{run['deployments']:,}",
            _n(run["events_per_s"]["projection"]),
            _n(run["events_per_s"]["pymongo_guarded_writes"]),
            f"{run['projection_over_guarded_writes']:.2f}",
            _n(run["events_per_s"]["raw_consume"]),
            _exact(run),
        ]
        for run in runs
    ]
    return [
        f"**Projection ingest**: {first['events']:,} events spread over all the deployments already in the "
        "collection, through the inventory's consumer path (events/s)",
        "",
        *_table(
            ["deployments", "projection", "PyMongo guarded `replace_one`, one by one", "ratio", "raw batched consume",
             "counts exact"],
            "rrrrrc",
            rows,
        ),
    ]  # fmt: skip


def _exact(run: dict[str, Any]) -> str:
    counters = {True: ", counters = recount", False: ", **counters != recount**", None: ""}
    return ("yes" if run["projection_correct"] else "**NO**") + counters[run["summary_counters_equal_recount"]]


def render_queries(sizes: list[dict[str, Any]]) -> list[str]:
    rows = []
    for query in QUERY_NAMES:
        for at in sizes:
            timed = at[query]["latency"]
            cells = [
                f"{_ms(timed[p]['p50_ms'])} / {_ms(timed[p]['p95_ms'])}" if p in timed else "-" for p in PATH_NAMES
            ]
            fewest, most = min(t["n"] for t in timed.values()), max(t["n"] for t in timed.values())
            runs = str(most) if fewest == most else f"{fewest}-{most}"
            rows.append([QUERY_NAMES[query], f"{at['deployments']:,}", *cells, runs])
    page = sizes[0]["page"]["params"]
    notes = sorted({f"{QUERY_NAMES[q]}: {note}" for at in sizes for q in QUERY_NAMES for note in at[q]["notes"]})
    differ = sorted(
        {QUERY_NAMES[q] for at in sizes for q in QUERY_NAMES if at[q]["same_answers"].get("postgresql") is False}
    )
    return [
        "**Queries**, p50 / p95 in ms, as a non-admin user who sees about half the fleet (and the summary as an "
        "admin too). HTTP: the app's routes "
        "in-process through httpx's ASGITransport; PyMongo: the commands the store sent, replayed on the same "
        "database; PostgreSQL: the same commands as SQL over a jsonb copy of the same documents (GIN "
        "`jsonb_path_ops` + btree expression indexes).",
        "",
        *_table(["query", "deployments", *PATH_NAMES.values(), "runs"], "lrrrrrr", rows),
        "",
        "The page: `" + "&".join(f"{k}={v[0]}" for k, v in page.items()) + "` (count + first page). "
        "Database commands per query (what the store sent): "
        + "; ".join(
            f"{at['deployments']:,}: " + ", ".join(f"{q} {at[q]['same_answers']['commands']}" for q in QUERY_NAMES)
            for at in sizes
        )
        + ".",
        *(f"Note: {note}" for note in notes),
        *(f"**PostgreSQL answered differently**: {', '.join(differ)}" for _ in differ[:1]),
    ]  # fmt: skip


def render_latency(runs: list[dict[str, Any]]) -> list[str]:
    rows = [
        [
            _n(run["rate_per_s"]),
            _n(run["achieved_rate_per_s"], 1),
            f"{run['seconds']:g}",
            *(_ms(run["latency"][key]) for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms")),
            f"{run['visible']:,} / {run['events']:,}",
        ]
        for run in runs
    ]
    return [
        f"**Publish → visible** through the running app (its own subscriber, batches ≤ "
        f"{runs[0]['batch_max_records']} or {runs[0]['batch_timeout_ms']} ms), events about all "
        f"{runs[0]['deployments']:,} deployments",
        "",
        *_table(["events/s", "achieved", "seconds", "p50 ms", "p95 ms", "p99 ms", "max ms", "visible"], "r" * 8, rows),
        *(
            ["", "Events not visible within the wait after publishing stopped are left out of the percentiles."]
            if not all(run["complete"] for run in runs)
            else []
        ),
    ]


def _verdict(met: bool) -> str:
    return "met" if met else "**NOT met**"


def targets(results: dict[str, Any]) -> list[str]:
    checks = []
    ingest = [run for run in results.get("ingest", []) if run["deployments"] == TARGET_SIZE]
    for run in ingest:
        rate, ratio = run["events_per_s"]["projection"], run["projection_over_guarded_writes"]
        checks.append(
            f"ingest at 100,000 ≥ 500 events/s and ≥ 0.5 x PyMongo guarded writes: {rate:,.0f}/s, "
            f"{ratio:.2f} x: {_verdict(rate >= 500 and ratio >= 0.5)}"
        )
    for at in results.get("queries", []):
        if at["deployments"] != TARGET_SIZE:
            continue
        for query in ("get", "summary", "summary_admin"):
            p95 = at[query]["latency"]["http"]["p95_ms"]
            checks.append(f"{QUERY_NAMES[query]} p95 over HTTP at 100,000 < 10 ms: {_ms(p95)} ms: {_verdict(p95 < 10)}")
    for run in results.get("latency", []):
        if run["rate_per_s"] == 100:
            p99 = run["latency"]["p99_ms"]
            met = p99 is not None and p99 < 250 and run["complete"]
            checks.append(f"publish → visible p99 at 100 events/s < 250 ms: {_ms(p99)} ms: {_verdict(met)}")
    return checks or ["not measured in this run (they are for 100,000 deployments and 100 events/s)"]
