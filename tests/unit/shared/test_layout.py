"""The stored layout of a projection: the state packed whole, queried paths copied beside it."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from shared.storage.layout import STATE, packed, unpacked


class Inner(BaseModel):
    model_config = ConfigDict(frozen=True)
    status: str = "ok"
    history: tuple[int, ...] = ()


class Thing(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    at: datetime
    inner: Inner = Inner()
    notes: dict[str, str] = {}


THING = Thing(
    name="a", at=datetime(2026, 1, 2, tzinfo=UTC), inner=Inner(status="bad", history=(1, 2)), notes={"k": "v"}
)


def test_only_the_queried_paths_are_copied_beside_the_packed_state() -> None:
    document = packed(THING, ["name", "inner.status", "at", "missing.path"])
    assert document == {
        STATE: THING.model_dump_json(),
        "name": "a",
        "inner": {"status": "bad"},
        "at": datetime(2026, 1, 2, tzinfo=UTC),
    }


def test_a_packed_document_reads_back_as_the_same_state() -> None:
    assert unpacked(Thing, {"_id": "x", "_rev": 3, **packed(THING, ["name"])}) == THING


def test_a_document_written_before_packing_is_read_from_its_fields() -> None:
    assert unpacked(Thing, {"_id": "x", **THING.model_dump(mode="python")}) == THING
