"""Queries as a non-admin caller: one deployment by id, the summary tiles (also as an admin), a
filtered sorted page.

Each is timed four ways, interleaved round by round so that drift in the machine's load hits all alike:
- http: the app's own routes (auth, validation, serialisation) in-process through httpx's ASGITransport;
- store: the InventoryStore method the route calls;
- pymongo: the very commands the store sent (captured by bench.capture), replayed through PyMongo's
  collection API on the same database, with the same concurrency;
- postgresql: the same commands translated to SQL over a jsonb copy of the same documents (the floor).
Slow queries stop after --query-seconds once they have --query-min-runs; `n` says how many runs there
were. A query whose first run through the store takes longer than --slow-query-seconds (a full scan of
a large fleet on FerretDB takes many minutes) is reported by that one run and the floor alone.
The floor's answers must equal what the database under test answered the store, or the run says so.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from bench import data
from bench.capture import COMMANDS, Captured, replay_with_pymongo
from bench.config import Config
from bench.infra import say
from bench.pgfloor import PgFloor
from bench.sqlfilter import Statement, Untranslatable
from bench.stats import Latencies
from services.inventory.adapters.query import Caller, parse_list_query
from services.inventory.adapters.store import InventoryStore
from shared.storage.mongo import Document

PAGE_PARAMS: dict[str, list[str]] = {
    "status": ["active"],
    "drift_health": ["failing,warning"],
    "sort": ["-predictions"],
    "limit": ["50"],
}
TOKEN = "bench-user-token"
ADMIN_TOKEN = "bench-admin-token"
ADMIN = Caller(user="bench-admin", admin=True)
_GET_IDS = 100  # distinct deployments the get-by-id runs cycle through


@dataclasses.dataclass
class Variant:
    query: str
    path: str
    run: Callable[[int], Awaitable[Any]]  # called with the run number
    runs: list[float] = dataclasses.field(default_factory=list)
    done: bool = False

    async def timed(self, number: int) -> float:
        started = time.perf_counter()
        await self.run(number)
        return time.perf_counter() - started


@dataclasses.dataclass
class Query:
    """One query: what the store sent for each of its cases (get: one case per id), and the floor's SQL."""

    name: str
    store: Callable[[int], Awaitable[Any]]
    http: Callable[[int], Awaitable[Any]]
    commands: list[list[Captured]] = dataclasses.field(default_factory=list)
    statements: list[list[Statement]] | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    slowest_capture_s: float = 0.0


def http_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://inventory",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


async def bench_queries(
    cfg: Config,
    store: InventoryStore,
    http: httpx.AsyncClient,
    client: AsyncMongoClient[Document],
    floor: PgFloor | None,
    visible: Sequence[str],
    sample: Document,
) -> dict[str, Any]:
    async def get_ok(path: str, params: dict[str, list[str]] | None = None, token: str = TOKEN) -> Any:
        response = await http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        return response.json()

    candidates = random.Random(cfg.seed).sample(list(visible), min(_GET_IDS, len(visible)))
    ids = [i for i in candidates if (await http.get(f"/deployments/{i}")).status_code == 200]
    if not ids:
        raise RuntimeError("no deployment the benchmark's caller can read")
    queries = [
        Query("get", lambda n: store.get(ids[n % len(ids)]), lambda n: get_ok(f"/deployments/{ids[n % len(ids)]}")),
        Query("summary", lambda _: store.summary(data.CALLER), lambda _: get_ok("/deployments/summary")),
        Query(
            "summary_admin",
            lambda _: store.summary(ADMIN),
            lambda _: get_ok("/deployments/summary", token=ADMIN_TOKEN),
        ),
        Query(
            "page",
            lambda _: store.page(parse_list_query(PAGE_PARAMS, data.CALLER)),
            lambda _: get_ok("/deployments", PAGE_PARAMS),
        ),
    ]
    if len(ids) < len(candidates):
        queries[0].notes.append(f"{len(candidates) - len(ids)} of {len(candidates)} sampled ids not readable")
    for query in queries:  # what the store sends, once per case
        for case in range(len(ids) if query.name == "get" else 1):
            with COMMANDS.capturing() as sent:
                started = time.perf_counter()
                await query.store(case)
                query.slowest_capture_s = max(query.slowest_capture_s, time.perf_counter() - started)
            query.commands.append(sent)
        if floor is not None:
            await _mirror_small_collections(floor, store, client, query.commands)
            try:
                query.statements = [await floor.prepare(sent, sample) for sent in query.commands]
            except Untranslatable as exc:
                query.notes.append(f"no PostgreSQL floor: {exc}")
    if floor is not None:
        await floor.analyze()

    variants: list[Variant] = []
    for query in queries:
        if query.slowest_capture_s > cfg.slow_query_s:
            # A full scan of a large fleet: that one run is the figure; repeating it, or timing the same
            # scan over HTTP and PyMongo, would take as long again each.
            variants.append(Variant(query.name, "store", query.store, [query.slowest_capture_s], done=True))
            query.notes.append(
                f"one run through the store took {query.slowest_capture_s:,.0f} s (over --slow-query-seconds): "
                "not repeated, nor timed over HTTP or PyMongo"
            )
        else:
            variants += [Variant(query.name, "http", query.http), Variant(query.name, "store", query.store)]
            variants.append(Variant(query.name, "pymongo", _pymongo_replayer(query, client)))
        if floor is not None and query.statements is not None:
            variants.append(Variant(query.name, "postgresql", _floor_replayer(query, floor)))
    same = {query.name: await _same_answers(query, floor) for query in queries}
    await _measure(cfg, variants)
    results: dict[str, Any] = {}
    for query in queries:
        timed = {v.path: Latencies(tuple(v.runs)).as_json() for v in variants if v.query == query.name}
        results[query.name] = {
            "latency": timed,
            "same_answers": same[query.name],
            "notes": query.notes,
            # The first few (the summary sends one point read per audience: hundreds, all alike).
            "commands": [{"name": c.name, "collection": c.collection, **c.body} for c in query.commands[0][:4]],
        }
        if floor is not None and query.statements:
            results[query.name]["postgresql_plan"] = [await floor.explain(s) for s in query.statements[0][:4]]
    results["page"]["params"] = PAGE_PARAMS
    results["get"]["ids"] = len(ids)
    return results


async def _mirror_small_collections(
    floor: PgFloor, store: InventoryStore, client: AsyncMongoClient[Document], commands: list[list[Captured]]
) -> None:
    """Copy into PostgreSQL, as they are now, the collections besides the fleet's that the store reads
    (the summary counters); the fleet's own copy is kept in step by the loader and the ingest phase."""
    others = {(c.database, c.collection) for sent in commands for c in sent} - {
        (store.collection.database.name, store.collection.name)
    }
    for database, name in sorted(others):
        await floor.replace(name, await client[database][name].find({}).to_list())


def _pymongo_replayer(query: Query, client: AsyncMongoClient[Document]) -> Callable[[int], Awaitable[Any]]:
    return lambda n: replay_with_pymongo(client, query.commands[n % len(query.commands)])


def _floor_replayer(query: Query, floor: PgFloor) -> Callable[[int], Awaitable[Any]]:
    statements = query.statements or []

    def run(n: int) -> Awaitable[Any]:
        case = n % len(query.commands)
        return floor.run(query.commands[case], statements[case])

    return run


async def _same_answers(query: Query, floor: PgFloor | None) -> dict[str, Any]:
    """PostgreSQL's answers to the first case beside what the database under test answered the store,
    command by command, in comparable form."""
    commands = query.commands[0]
    answer: dict[str, Any] = {"commands": len(commands)}
    if floor is None or query.statements is None:
        return answer
    if any(c.rows is None for c in commands):
        answer["postgresql"] = None  # an answer spanned several replies; not kept, so not compared
        return answer
    database = [_comparable(c, c.rows or []) for c in commands]
    rows = await floor.run(commands, query.statements[0])
    postgres = [_comparable(c, r) for c, r in zip(commands, rows, strict=True)]
    answer["postgresql"] = database == postgres
    if not answer["postgresql"]:
        say(f"queries: PostgreSQL answers {query.name} differently from the database under test")
        differing = [(d, p) for d, p in zip(database, postgres, strict=True) if d != p]
        answer["first_difference"] = {"database": differing[0][0][:10], "postgresql": differing[0][1][:10]}
    return answer


def _comparable(command: Captured, rows: list[Any]) -> Any:
    if command.name == "find":
        return [row["_id"] for row in rows]
    return sorted(data.json_text({k: v for k, v in row.items() if k != "ok"}, sort_keys=True) for row in rows)


async def _measure(cfg: Config, variants: list[Variant]) -> None:
    """Warm-up, then rounds over every variant until each has its runs or has used its time. A warm-up
    run that alone takes longer than the budget counts as measured."""
    active = [variant for variant in variants if not variant.done]
    for variant in active:
        spent = 0.0
        for number in range(cfg.query_warmup):
            took = await variant.timed(number)
            if took > cfg.query_seconds:
                variant.runs.append(took)
                break
            spent += took
            if spent > cfg.query_seconds / 4:
                break
    number = 0
    while active:
        for variant in list(active):
            if sum(variant.runs) < cfg.query_seconds or len(variant.runs) < cfg.query_min_runs:
                variant.runs.append(await variant.timed(number))
            if len(variant.runs) >= cfg.query_runs or (
                sum(variant.runs) >= cfg.query_seconds and len(variant.runs) >= cfg.query_min_runs
            ):
                active.remove(variant)
        number += 1
        if number % 50 == 0:
            say(f"queries: round {number}, {len(active)} variants still measuring")
