"""Queries: a filtered, sorted page, the summary tiles and one deployment, as a non-admin caller.

Each is timed through `InventoryStore`, straight through the driver with the same filter and pipelines
(captured from what the store sends), and over HTTP on the real app (httpx ASGITransport), in
interleaved rounds after warm-up rounds that are not measured. FerretDB v1 scans the whole collection
for every one of them, so the size is capped to fit --query-budget after calibrating on a small
collection; the cost per deployment and the extrapolation to --query-deployments are reported
(--full-size-probe checks it with one run of each at that size).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import bson
import httpx
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from bench import data
from bench.config import Config
from bench.infra import say
from bench.monitor import STATS
from bench.stats import Latencies, nice_floor, ratios_to_driver
from services.inventory.adapters.query import ListQuery, parse_list_query
from services.inventory.adapters.store import InventoryStore
from services.inventory.bootstrap import create_app
from services.inventory.settings import InventorySettings
from shared.service.settings import ApiUser
from shared.storage.mongo import Document

PAGE_PARAMS: dict[str, list[str]] = {
    "status": ["active"],
    "drift_health": ["failing,warning"],
    "sort": ["-predictions"],
    "limit": ["50"],
}
TOKEN = "bench-user-token"


@dataclasses.dataclass
class QueryKind:
    name: str
    path: str
    run: Callable[[], Awaitable[Any]]
    runs: list[float] = dataclasses.field(default_factory=list)


def _rows_key(rows: Sequence[Document]) -> list[str]:
    return sorted(repr(sorted(row.items())) for row in rows)


def _http_app(cfg: Config, namespace: str, database: str) -> tuple[FastAPI, httpx.AsyncClient]:
    """The app's routes and store, without its lifespan: no broker or consumer runs beside the queries."""
    settings = InventorySettings(
        kafka={"bootstrap_servers": cfg.kafka, "topic_namespace": namespace},
        mongo={"url": cfg.mongo_url, "database": database},
        log={"level": "WARNING", "json": False},
        api_tokens={TOKEN: ApiUser(user=data.CALLER.user, groups=data.CALLER.groups)},
    )
    app = create_app(settings)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://inventory",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=None,
    )
    return app, client


async def _explain(db: AsyncDatabase[Document], command: dict[str, Any]) -> dict[str, Any]:
    try:
        reply = await db.command({"explain": command})
    except Exception as exc:
        return {"error": str(exc)}
    plan = reply.get("queryPlanner", {})
    return {
        "filterPushdown": reply.get("filterPushdown"),
        "sortPushdown": reply.get("sortPushdown"),
        "limitPushdown": reply.get("limitPushdown"),
        "plan": plan.get("Plan") or plan.get("winningPlan", {}).get("stage"),
    }


async def _explain_plans(
    db: AsyncDatabase[Document], collection: str, query: ListQuery, pipelines: list[Any], some_id: str
) -> dict[str, Any]:
    """How the backend runs each query, and the filters of the projection's reads (`_id` $in) and of
    its revision guard (`_id` and `_rev`, used on MongoDB only)."""

    def find(filter_: Document) -> dict[str, Any]:
        return {"find": collection, "filter": filter_}

    def aggregate(pipeline: list[Any]) -> dict[str, Any]:
        return {"aggregate": collection, "pipeline": pipeline, "cursor": {}}

    return {
        "page_find": await _explain(db, {**find(query.filter), "sort": dict(query.sort), "limit": query.limit}),
        "page_count": await _explain(db, aggregate([{"$match": query.filter}])),
        "summary": [await _explain(db, aggregate(pipeline)) for pipeline in pipelines],
        "get_by_id": await _explain(db, find({"_id": some_id})),
        "ids_in_filter": await _explain(db, find({"_id": {"$in": [some_id]}})),
        "id_and_rev_filter": await _explain(db, find({"_id": some_id, "_rev": 1})),
    }


async def bench_queries(
    cfg: Config, namespace: str, db: AsyncDatabase[Document], reference: Document | None
) -> dict[str, Any]:
    store = InventoryStore(db)
    collection = store.collection
    index_start = time.perf_counter()
    await store.create_indexes()
    index_s = time.perf_counter() - index_start
    # Deployment 0 goes through the real store; its bookkeeping fields are copied into all the others.
    await store.apply(data.deployment_inbounds(0, cfg.seed, namespace))
    written = await collection.find_one({"_id": data.deployment_id(0)})
    if written is None:
        raise RuntimeError("the projection store did not write deployment 0")
    extra = data.bookkeeping(written)
    generated = {**data.view_document(0, cfg.seed), **extra}
    generated = bson.decode(bson.encode(generated), codec_options=collection.codec_options)  # as stored
    same_as_store = data.layout(generated) == data.layout(written) and all(
        generated[key] == written[key] for key in ("status", "owners", "users", "predictions", "health")
    )
    if not same_as_store:
        say("queries: WARNING the generated documents differ from what the store writes; see JSON")
    loaded = 1
    generate_s = load_s = 0.0

    async def load_until(target: int) -> None:
        nonlocal loaded, generate_s, load_s
        while loaded < target:
            count = min(1000, target - loaded)
            start = time.perf_counter()
            documents = data.projection_documents(loaded, count, cfg.seed, extra)
            generate_s += time.perf_counter() - start
            start = time.perf_counter()
            await collection.insert_many(documents, ordered=False)
            load_s += time.perf_counter() - start
            loaded += count

    query = parse_list_query(PAGE_PARAMS, data.CALLER)

    # Calibrate on a small collection: what one page + summary costs per document.
    with STATS.in_phase("queries.load"):
        await load_until(cfg.query_probe)
    layout_matches = None
    if reference is not None:  # and like the documents the ingest run produced
        layout_matches = data.layout(generated) == data.layout(reference)
    for _ in range(2):
        start = time.perf_counter()
        await store.page(query)
        await store.summary(data.CALLER)
        calibration_s = time.perf_counter() - start
    per_doc_s = calibration_s / loaded
    load_per_doc_s = (generate_s + load_s) / loaded
    variants = 3 if cfg.http else 2
    rounds = cfg.query_warmup + cfg.query_runs
    # A round: page + summary per variant, plus the single-document gets (cheaper; counted as 0.5).
    est_round_per_doc = per_doc_s * (variants + 0.5)
    fit = (cfg.query_budget_s - load_s - generate_s) / (rounds * est_round_per_doc + load_per_doc_s)
    size = max(loaded, min(cfg.query_deployments, nice_floor(fit)))
    say(
        f"queries: one page+summary costs {per_doc_s * 1e3:.3f} ms per document at {loaded}; "
        f"measuring at {size} of {cfg.query_deployments} requested"
    )
    with STATS.in_phase("queries.load"):
        await load_until(size)

    # What the store sends, captured so the raw baseline replays exactly the same queries.
    with STATS.capturing() as sent_by_page:
        total, views = await store.page(query)
    with STATS.capturing() as sent_by_summary:
        rows, predictions_total = await store.summary(data.CALLER)
    finds = [c for c in sent_by_page if c.name == "find" and c.collection == collection.name]
    projection = finds[0].body.get("projection") if finds else None
    pipelines = [c.body["pipeline"] for c in sent_by_summary if c.name == "aggregate"]
    if not views:
        raise RuntimeError("the page query matched nothing; the data generator and the query disagree")
    visible_id = views[0].deployment_id

    async def page_driver() -> tuple[int, list[Document]]:
        count = await collection.count_documents(query.filter)
        cursor = collection.find(query.filter, projection=projection).sort(query.sort).skip(query.offset)
        return count, [document async for document in cursor.limit(query.limit)]

    async def summary_driver() -> list[list[Document]]:
        return [[row async for row in await collection.aggregate(pipeline)] for pipeline in pipelines]

    # Same answers both ways, or the comparison means nothing.
    raw_total, raw_page = await page_driver()
    same_page = raw_total == total and [d["_id"] for d in raw_page] == [v.deployment_id for v in views]
    raw_rows = await summary_driver()
    same_summary = bool(raw_rows) and _rows_key(raw_rows[0]) == _rows_key(rows)
    if len(raw_rows) > 1 and raw_rows[1]:  # the store's second aggregation is the predictions total
        same_summary = same_summary and predictions_total in raw_rows[1][0].values()

    kinds = [
        QueryKind("page", "store", lambda: store.page(parse_list_query(PAGE_PARAMS, data.CALLER))),
        QueryKind("page", "driver", page_driver),
        QueryKind("summary", "store", lambda: store.summary(data.CALLER)),
        QueryKind("summary", "driver", summary_driver),
        QueryKind("get", "store", lambda: store.get(visible_id)),
        QueryKind("get", "driver", lambda: collection.find_one({"_id": visible_id})),
    ]
    app, client = _http_app(cfg, namespace, db.name) if cfg.http else (None, None)
    try:
        if client is not None:
            http = client

            async def get_ok(path: str, params: dict[str, list[str]] | None = None) -> Any:
                response = await http.get(path, params=params)
                response.raise_for_status()
                return response.json()

            kinds += [
                QueryKind("page", "http", lambda: get_ok("/deployments", PAGE_PARAMS)),
                QueryKind("summary", "http", lambda: get_ok("/deployments/summary")),
                QueryKind("get", "http", lambda: get_ok(f"/deployments/{visible_id}")),
            ]
            body = await get_ok("/deployments", PAGE_PARAMS)
            same_page = same_page and body["count"] == total

        say(f"queries: {cfg.query_warmup} warm-up + {cfg.query_runs} runs of {len(kinds)} queries over {loaded}")
        phase_start = time.perf_counter()
        with STATS.in_phase("queries.runs"):
            for round_number in range(rounds):
                for kind in kinds:  # interleaved, so drift in the machine's load hits every variant alike
                    start = time.perf_counter()
                    await kind.run()
                    if round_number >= cfg.query_warmup:
                        kind.runs.append(time.perf_counter() - start)
        runs_s = time.perf_counter() - phase_start
        explain = await _explain_plans(db, collection.name, query, pipelines, visible_id)

        full: dict[str, Any] | None = None
        if cfg.full_size_probe and loaded < cfg.query_deployments:
            say(f"queries: full-size probe, loading up to {cfg.query_deployments}")
            before = generate_s + load_s
            with STATS.in_phase("queries.load"):
                await load_until(cfg.query_deployments)
            full = {"deployments": loaded, "load_seconds": round(generate_s + load_s - before, 1), "single_run_ms": {}}
            for kind in kinds:
                say(f"queries: full-size probe {kind.name}/{kind.path}")
                start = time.perf_counter()
                await kind.run()
                full["single_run_ms"][f"{kind.name}.{kind.path}"] = round((time.perf_counter() - start) * 1e3, 1)
    finally:
        if client is not None:
            await client.aclose()
        if app is not None:
            await app.state.runtime.mongo.close()

    results: dict[str, Latencies] = {f"{k.name}.{k.path}": Latencies(tuple(k.runs)) for k in kinds}
    return {
        "requested_deployments": cfg.query_deployments,
        "measured_deployments": size,
        "caller": {"user": data.CALLER.user, "groups": list(data.CALLER.groups), "admin": False},
        "page_params": PAGE_PARAMS,
        "page_total": total,
        "summary_rows": len(rows),
        "summary_predictions": predictions_total,
        "same_answers": {"page": same_page, "summary": same_summary},
        "generated_matches_store_written": same_as_store,
        "layout_matches_ingest_documents": layout_matches,
        "store_bookkeeping_fields": sorted(extra),
        "captured_projection": projection,
        "captured_summary_pipelines": pipelines,
        "calibration": {
            "at_deployments": cfg.query_probe,
            "page_plus_summary_ms_per_deployment": round(per_doc_s * 1e3, 4),
        },
        "load": {
            "generate_seconds": round(generate_s, 2),
            "insert_seconds": round(load_s, 2),
            "deployments": loaded,
            "insert_docs_per_s": round(loaded / load_s, 1) if load_s else None,
            "index_create_seconds": round(index_s, 3),
            "extrapolated_seconds_for_requested": round(cfg.query_deployments * load_per_doc_s, 1),
        },
        "runs_seconds": round(runs_s, 1),
        "latency": {key: value.as_json() for key, value in results.items()},
        "ratios_to_driver": ratios_to_driver(results),
        "extrapolated_p50_ms_at_requested": {
            key: round(value.p50 * 1e3 * cfg.query_deployments / size, 1)
            for key, value in results.items()
            if not key.startswith("get.")
        },
        "full_size_probe": full,
        "ferretdb_explain": explain,
        "db_commands": STATS.phase_json("queries.runs"),
    }
