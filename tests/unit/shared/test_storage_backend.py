"""The one module that knows the backend: its decisions, chosen once per client, each with a reason."""

from __future__ import annotations

from typing import Any

import pytest

from shared.storage import backend as storage_backend
from shared.storage.backend import FERRETDB_WRITES_PER_COMMAND, Backend, Kind, ReadMany, backend_of
from tests.unit.inventory.memory_db import MemoryClient


def test_ferretdb_is_told_by_its_build_info_and_gets_its_workarounds() -> None:
    ferret = Backend.for_build_info({"version": "7.0.42", "ferretdbVersion": "v1.24.2"})
    assert (ferret.kind, ferret.writes_per_command, ferret.read_many) == (
        Kind.FERRETDB,
        FERRETDB_WRITES_PER_COMMAND,
        ReadMany.POINT_READS,
    )
    assert not ferret.secondary_indexes
    mongo = Backend.for_build_info({"version": "7.0.14"})
    assert (mongo.kind, mongo.writes_per_command, mongo.read_many) == (Kind.MONGODB, None, ReadMany.IN_QUERY)
    assert mongo.secondary_indexes


def test_every_decision_says_why_and_the_revision_guard_is_never_off() -> None:
    for backend in (
        Backend.for_build_info({"version": "7.0.14"}),
        Backend.for_build_info({"ferretdbVersion": "v1"}, atomic_revision_guard=True),
        Backend.for_build_info({"ferretdbVersion": "v1"}, atomic_revision_guard=False),
    ):
        decisions = backend.decisions()
        assert {"write_chunk", "batch_loads", "new_documents", "revision_guard"} <= set(decisions)
        assert decisions["revision_guard"].startswith("on, ")
    weak = Backend.for_build_info({"ferretdbVersion": "v1"}, atomic_revision_guard=False)
    assert "NOT atomic" in weak.decisions()["revision_guard"]


def test_writes_are_chunked_only_where_the_backend_needs_it() -> None:
    ferret = Backend.for_build_info({"ferretdbVersion": "v1"})
    size = FERRETDB_WRITES_PER_COMMAND
    assert [len(chunk) for chunk in ferret.chunks(list(range(2 * size + 7)))] == [size, size, 7]
    assert [len(chunk) for chunk in Backend.for_build_info({}).chunks(list(range(120)))] == [120]


@pytest.mark.parametrize("ferretdb", [True, False])
async def test_documents_are_loaded_by_id_either_way(ferretdb: bool) -> None:
    client = MemoryClient(ferretdb=ferretdb)
    collection: Any = client["db"]["docs"]
    for key in ("a", "b", "c"):
        collection.documents[key] = {"_id": key, "n": 1}
    found = await (await backend_of(client)).find_by_ids(collection, ["c", "a", "zz", "a"])  # type: ignore[arg-type]
    assert sorted(found) == ["a", "c"]
    point_reads = [call for call in client.calls if call == ("docs", "find_one")]
    assert len(point_reads) == (3 if ferretdb else 0), "FerretDB: one point read per distinct id; MongoDB: one $in"


async def test_the_backend_is_asked_and_logged_once_per_client(monkeypatch: pytest.MonkeyPatch) -> None:
    logged: list[Backend] = []
    monkeypatch.setattr(Backend, "log_decisions", lambda self: logged.append(self))
    client = MemoryClient(ferretdb=True)
    first = await backend_of(client)  # type: ignore[arg-type]
    assert await backend_of(client) is first  # type: ignore[arg-type]
    assert logged == [first]
    assert first.atomic_revision_guard, "the in-memory database refuses a write that does not raise _rev by one"
    assert storage_backend.PROBE_DATABASE in client.databases
