"""The fleet under test: the inventory collection grown to each size in turn, and its PostgreSQL copy.

Deployment 0 goes through the real store (`InventoryStore.apply`); every other document is built by
the domain in worker processes (bench.data.prepare_chunk) with the bookkeeping fields the store wrote
for deployment 0 and its own share of the summary counters, and bulk-inserted: no Kafka, no
per-document round trip. The summary counters are then settled by the store's own counting code.
Before loading, the generated document 0 must equal the one the store wrote, or the run stops: the
documents the queries and the ingest meet are the ones the inventory itself would have written.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor

import bson
from bson.raw_bson import RawBSONDocument

from bench import data
from bench.config import Config
from bench.infra import say
from bench.pgfloor import PgFloor
from services.inventory.adapters.store import InventoryStore
from shared.storage.counters import COUNTED, COUNTING, share_of
from shared.storage.mongo import Document

CHUNK = 1000  # documents a worker prepares at a time
_INSERT_PARTS = 4  # each chunk goes to the database as this many concurrent insert_many commands


class LayoutMismatch(RuntimeError):
    """The generated documents are not what the store writes; loading them would measure something else."""


class Fleet:
    def __init__(self, cfg: Config, store: InventoryStore, floor: PgFloor | None) -> None:
        self.cfg = cfg
        self.store = store
        self.floor = floor
        self.size = 0
        self.visible: list[str] = []  # deployment ids the benchmark's caller may read
        self.sample: Document = {}  # deployment 0 as the store wrote it
        self.extra: Document = {}
        self.load_seconds: dict[int, dict[str, float]] = {}
        self._pool = ProcessPoolExecutor(cfg.load_workers, mp_context=multiprocessing.get_context("spawn"))

    async def start(self, namespace: str) -> None:
        """Write deployment 0 through the real store and check the generator against it."""
        # The worker processes start (and import the domain) meanwhile.
        loop = asyncio.get_running_loop()
        warming = [
            loop.run_in_executor(self._pool, data.view_of, 0, self.cfg.seed) for _ in range(self.cfg.load_workers)
        ]
        await self.store.create_indexes()
        await self.store.apply(data.deployment_inbounds(0, self.cfg.seed, namespace))
        written = await self.store.collection.find_one({"_id": data.deployment_id(0)})
        if written is None:
            raise LayoutMismatch("the store did not write deployment 0")
        self.extra = data.bookkeeping(written)
        view = data.view_of(0, self.cfg.seed)
        generated = {**data.view_document(view), **self.extra}
        contribute = self.store.projection.contribute
        if contribute is not None:
            generated[COUNTED] = share_of(contribute(view))
        # Its pending transition is anchored where the store applied it; the loaded ones are all counted.
        generated[COUNTING] = written.get(COUNTING, [])
        as_stored = bson.decode(bson.encode(generated), codec_options=self.store.collection.codec_options)
        if as_stored != written:
            differing = sorted(k for k in as_stored.keys() | written.keys() if as_stored.get(k) != written.get(k))
            raise LayoutMismatch(f"generated deployment 0 differs from the store's in {differing}")
        self.sample, self.size = written, 1
        await asyncio.gather(*warming)
        if data.visible_to_caller(written):
            self.visible.append(written["_id"])
        if self.floor is not None:
            await self.floor.copy(self.store.collection.name, [(written["_id"], data.json_text(written))])

    async def grow_to(self, target: int) -> None:
        started, loop = time.perf_counter(), asyncio.get_running_loop()
        split = {"waiting_for_workers": 0.0, "inserting": 0.0, "summary_counters": 0.0}
        window = 2 * self.cfg.load_workers  # chunks prepared ahead of the inserts
        contribute = self.store.projection.contribute
        pending: deque[asyncio.Future[data.PreparedChunk]] = deque()
        transitions: list[Document] = []

        async def insert_next() -> None:
            mark = time.perf_counter()
            chunk = await pending.popleft()
            split["waiting_for_workers"] += time.perf_counter() - mark
            mark = time.perf_counter()
            await self._insert(chunk)
            split["inserting"] += time.perf_counter() - mark
            transitions.extend(chunk.transitions)

        for first in range(self.size, target, CHUNK):
            args = (first, min(CHUNK, target - first), self.cfg.seed, self.extra, contribute)
            pending.append(loop.run_in_executor(self._pool, data.prepare_chunk, *args))
            if len(pending) >= window:
                await insert_next()
        while pending:
            await insert_next()
        # The summary counters, by the store's own counting code, as if one batch had created them all.
        mark = time.perf_counter()
        await self.store.counters.settle([{COUNTING: transitions}], {data.LOAD_SOURCE: (self.size, target - 1)})
        split["summary_counters"] = time.perf_counter() - mark
        if self.floor is not None:
            await self.floor.analyze()
        seconds = time.perf_counter() - started
        self.load_seconds[target] = {"total": round(seconds, 1), **{k: round(v, 1) for k, v in split.items()}}
        parts = ", ".join(f"{key} {value:.1f}s" for key, value in split.items())
        say(f"fleet: {target:,} deployments ({target - self.size:,} loaded in {seconds:.1f}s: {parts})")
        self.size = target

    async def _insert(self, chunk: data.PreparedChunk) -> None:
        documents = [RawBSONDocument(raw) for raw in chunk.bson_documents]
        step = -(-len(documents) // _INSERT_PARTS)
        parts = [documents[i : i + step] for i in range(0, len(documents), step)]
        writes = [self.store.collection.insert_many(part, ordered=False) for part in parts]
        if self.floor is not None:
            await asyncio.gather(*writes, self.floor.copy(self.store.collection.name, chunk.json_rows))
        else:
            await asyncio.gather(*writes)
        self.visible += chunk.visible

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)
