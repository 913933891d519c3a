"""What the store sends to the database, captured so that raw baselines replay exactly the same commands.

A PyMongo command listener, registered once for the process (so the clients the services build report
too). While `capturing` is on it keeps the read commands in the order sent, with their answers, grouped by
overlap: commands started while another was in flight were sent concurrently, and the replays send
them concurrently too.
It also adds up round trips per command in named phases, to say where the projection's time goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from pymongo import AsyncMongoClient, monitoring

from shared.storage.mongo import Document

READS = frozenset({"find", "aggregate", "count"})
REPLAY_CONCURRENCY = 16  # shared.storage.backend reads by _id 16 at a time on FerretDB


@dataclasses.dataclass
class Captured:
    name: str
    database: str
    collection: str
    body: dict[str, Any]
    group: int  # commands of one group were in flight together
    rows: list[Any] | None = None  # what the database answered, when it fit in one reply


class CommandLog(monitoring.CommandListener):
    def __init__(self) -> None:
        self.phase: str | None = None
        self.totals: dict[str, dict[str, list[float]]] = {}  # phase -> "command collection" -> [calls, seconds]
        self._in_flight: dict[int, str] = {}
        self._group = 0
        self._capture: list[Captured] | None = None
        self._awaiting_reply: dict[int, Captured] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        collection = event.command.get(name)
        collection = collection if isinstance(collection, str) else ""
        if not self._in_flight:
            self._group += 1
        self._in_flight[event.request_id] = f"{name} {collection}".strip()
        if self._capture is not None and name in READS:
            body = {k: copy.deepcopy(v) for k, v in event.command.items() if not k.startswith(("$", "lsid"))}
            captured = Captured(name, event.database_name, collection, body, self._group)
            self._capture.append(captured)
            self._awaiting_reply[event.request_id] = captured

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        captured = self._awaiting_reply.pop(event.request_id, None)
        if captured is not None:
            cursor = event.reply.get("cursor")
            if cursor is None:  # count
                captured.rows = [copy.deepcopy(dict(event.reply))]
            elif not cursor.get("id"):  # no getMore to follow: the whole answer is here
                captured.rows = copy.deepcopy(list(cursor.get("firstBatch", [])))
        self._finish(event.request_id, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._finish(event.request_id, event.duration_micros)

    def _finish(self, request_id: int, micros: int) -> None:
        key = self._in_flight.pop(request_id, "unknown")
        if self.phase is not None:
            calls_seconds = self.totals.setdefault(self.phase, {}).setdefault(key, [0, 0.0])
            calls_seconds[0] += 1
            calls_seconds[1] += micros / 1e6

    @contextlib.contextmanager
    def in_phase(self, phase: str) -> Iterator[None]:
        previous, self.phase = self.phase, phase
        try:
            yield
        finally:
            self.phase = previous

    @contextlib.contextmanager
    def capturing(self) -> Iterator[list[Captured]]:
        captured: list[Captured] = []
        self._capture = captured
        try:
            yield captured
        finally:
            self._capture = None
            self._awaiting_reply.clear()

    def seconds_by_command(self, phase: str) -> dict[str, dict[str, float]]:
        ranked = sorted(self.totals.get(phase, {}).items(), key=lambda item: -item[1][1])
        return {key: {"calls": calls, "seconds": round(seconds, 3)} for key, (calls, seconds) in ranked}


COMMANDS = CommandLog()
monitoring.register(COMMANDS)


def in_groups(commands: Sequence[Captured]) -> list[list[Captured]]:
    return [list(group) for _, group in itertools.groupby(commands, key=lambda c: c.group)]


async def replay_with_pymongo(client: AsyncMongoClient[Document], commands: Sequence[Captured]) -> list[Any]:
    """The same commands through PyMongo's collection API, each group's concurrently (at most as many
    at a time as the store's point reads on FerretDB); one result list per command."""
    gate = asyncio.Semaphore(REPLAY_CONCURRENCY)

    async def gated(command: Captured) -> list[Document]:
        async with gate:
            return await _run(client, command)

    results: list[Any] = []
    for group in in_groups(commands):
        results += await asyncio.gather(*(gated(command) for command in group))
    return results


async def _run(client: AsyncMongoClient[Document], command: Captured) -> list[Document]:
    collection = client[command.database][command.collection]
    body = command.body
    if command.name == "find":
        cursor = collection.find(
            body.get("filter") or {},
            projection=body.get("projection"),
            sort=list(body["sort"].items()) if body.get("sort") else None,
            skip=body.get("skip", 0),
            limit=abs(body.get("limit", 0)),
        )
        return await cursor.to_list()
    if command.name == "aggregate":
        return await (await collection.aggregate(body["pipeline"])).to_list()
    return [await client[command.database].command(body)]  # count
