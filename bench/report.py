"""Renders the results as a plain-text table (stdout) and writes them as JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def rate(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def ms(milliseconds: float | None) -> str:
    if milliseconds is None or math.isnan(milliseconds):
        return "-"
    if milliseconds >= 100:
        return f"{milliseconds:,.0f}"
    return f"{milliseconds:,.1f}" if milliseconds >= 1 else f"{milliseconds:.2f}"


def ratio(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.2f}"


def mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> str:
    """Left-aligned first column, right-aligned numbers."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [str(first).ljust(widths[0])] + [str(c).rjust(w) for c, w in zip(rest, widths[1:], strict=True)]
        return indent + "  ".join(parts).rstrip()

    rule = indent + "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")


def render(results: dict[str, Any]) -> str:
    db = results["database"]
    name = f"FerretDB {db['ferretdb']}" if db.get("ferretdb") else f"MongoDB {db.get('version')}"
    lines = [
        f"Inventory benchmark {results['run_id']} on {name}, Kafka {results['kafka']}, "
        f"{results['machine']['cpus']} CPUs, commit {results['git_commit']}, {results['wall_seconds']}s"
    ]
    if "ingest" in results:
        lines += ["", *render_ingest(results["ingest"])]
    if "queries" in results:
        lines += ["", *render_queries(results["queries"])]
    if "latency" in results:
        lines += ["", *render_latency(results["latency"])]
    return "\n".join(lines)


def _commands(commands: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value['seconds']:.2f}s/{value['calls']}" for key, value in commands.items())


def render_ingest(ing: dict[str, Any]) -> list[str]:
    secs, rates, writes, per_write = ing["seconds"], ing["events_per_s"], ing["writes"], ing["ms_per_document_write"]
    per_command = ing["raw_upsert_ops_per_command"]
    rows = [
        ["(a) raw consume: getmany + commit", rate(rates["raw_consume"]), f"{secs['raw_consume']:.2f}", "-", "-"],
        [f"(b) raw upserts: 1 ReplaceOne per event, {per_command} per command", rate(rates["raw_upserts"]),
         f"{secs['raw_upserts']:.2f}", f"{writes['raw_upserts']:,}", ms(per_write["raw_upserts"])],
        ["projection: BatchConsumer.process + apply", rate(rates["projection"]), f"{secs['projection']:.2f}",
         f"{writes['projection']:,}", ms(per_write["projection"])],
    ]  # fmt: skip
    goal = ing["ratio_projection_to_slower_baseline"]
    split = ing["projection_seconds_by_kind"]
    db_cpu = ing["projection_database_cpu_seconds"]
    return [
        f"INGEST  {ing['events']:,} events over {ing['deployments']:,} deployments, "
        f"{ing['partitions_per_topic']} partitions x 2 topics, batches <= {ing['batch_max_records']}",
        table(["path", "events/s", "seconds", "doc writes", "ms/write"], rows),
        f"  projection / slower baseline ({ing['slower_baseline']}): {goal:.2f} "
        f"(goal >= 0.5: {'met' if goal >= 0.5 else 'NOT met'});  projection correct "
        f"(documents, predictions, one ledger claim per event): {ing['projection_correct']}",
        f"  (b) in commands of {per_command} ops: {ing['raw_upsert_ops_per_command_why']}",
        *([f"  {ing['write_cost_note']}"] if ing.get("write_cost_note") else []),
        f"  projection time: writes {split['writes']:.2f}s, reads {split['reads']:.2f}s, ledger "
        f"{split['ledger']:.2f}s, other database {split['other_database']:.2f}s, outside the database "
        f"(Kafka, decode, validate, fold) {split['not_database']:.2f}s",
        f"  projection database round trips: {_commands(ing['projection_db_commands'])}",
        f"  projection CPU: Python {ing['projection_python_cpu_seconds']:.2f}s"
        + (f", FerretDB (all its clients) {db_cpu:.2f}s" if db_cpu is not None else "")
        + f" in {secs['projection']:.2f}s;  RSS {mib(ing['rss_bytes']['before_projection'])} -> peak "
        f"{mib(ing['rss_bytes']['peak_during_projection'])} "
        f"(process peak {mib(ing['peak_rss_bytes_process_after_ingest'])})",
    ]


def _plan_text(explained: Any) -> str:
    if isinstance(explained, list):
        return " + ".join(_plan_text(item) for item in explained)
    plan = explained.get("plan")
    steps = " ".join(str(step).split("detail=")[-1] for step in plan) if isinstance(plan, list) else str(plan)
    return f"[{explained.get('filterPushdown')}, {steps}]"


def render_queries(q: dict[str, Any]) -> list[str]:
    params = "&".join(f"{key}={value[0]}" for key, value in q["page_params"].items())
    same = q["same_answers"]
    lines = [
        f"QUERIES  over {q['measured_deployments']:,} deployments (requested {q['requested_deployments']:,}), "
        f"{q['latency']['page.store']['n']} runs each after warm-up; caller {q['caller']['user']} "
        f"+ {','.join(q['caller']['groups'])} (non-admin)",
        f"  page: {params} -> {q['page_total']:,} matching; "
        f"same answers store/driver/http: page {same['page']}, summary {same['summary']}",
    ]
    rows = []
    for key, value in q["latency"].items():
        name, path = key.split(".")
        versus = q["ratios_to_driver"].get(f"{name}.{path}/driver")
        rows.append(
            [
                f"{name} via {path}",
                ms(value["p50_ms"]),
                ms(value["p95_ms"]),
                ms(value["mean_ms"]),
                ratio(versus["p50"]) if versus else "1",
                ratio(versus["p95"]) if versus else "1",
            ]
        )
    lines.append(table(["query", "p50 ms", "p95 ms", "mean ms", "x driver p50", "x driver p95"], rows))
    load = q["load"]
    extrapolated = q["extrapolated_p50_ms_at_requested"]
    lines += [
        f"  load: {load['deployments']:,} documents at {load['insert_docs_per_s']:,} docs/s "
        f"(+{load['generate_seconds']}s generating); {q['requested_deployments']:,} would take "
        f"~{load['extrapolated_seconds_for_requested']:,}s",
        f"  page + summary cost {q['calibration']['page_plus_summary_ms_per_deployment']} ms per deployment "
        f"(linear: every query scans the collection); extrapolated p50 at {q['requested_deployments']:,}: "
        + ", ".join(f"{key} {value / 1e3:,.1f}s" for key, value in extrapolated.items() if key.endswith(".store")),
    ]
    if q["full_size_probe"]:
        full = q["full_size_probe"]
        lines.append(
            f"  full-size probe at {full['deployments']:,} (ONE run each; load {full['load_seconds']}s): "
            + ", ".join(f"{key} {value / 1e3:,.2f}s" for key, value in full["single_run_ms"].items())
        )
    lines.append(
        "  explain [filter pushdown, SQLite plan]: "
        + "; ".join(f"{key} {_plan_text(value)}" for key, value in q["ferretdb_explain"].items())
    )
    return lines


def render_latency(lat: dict[str, Any]) -> list[str]:
    lj = lat["latency"]
    return [
        f"PUBLISH -> VISIBLE  {lat['events']} events at {lat['achieved_rate_per_s']}/s over "
        f"{lat['deployments']} deployments through the running app (batch timeout {lat['batch_timeout_ms']} ms)",
        table(
            ["", "p50 ms", "p95 ms", "p99 ms", "max ms", "visible"],
            [
                [
                    "publish -> applied",
                    ms(lj["p50_ms"]),
                    ms(lj["p95_ms"]),
                    ms(lj["p99_ms"]),
                    ms(lj["max_ms"]),
                    f"{lat['visible']}/{lat['events']}",
                ]
            ],
        ),
    ]
