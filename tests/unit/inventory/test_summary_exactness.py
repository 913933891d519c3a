"""The summary counters equal a recount of the documents after crashes between the document write
and the counter write, redeliveries cut differently, duplicates, and two writers racing on the same
documents (the other topic's consumer, or one that lost its partitions) — on an in-memory database
where the test decides where each writer dies and how the writers interleave.

The projection here is a toy (its rules are not the inventory's), so these tests are about the
storage layer's counting alone; tests/integration/inventory/test_summary_counters.py proves the same
on the real database with the inventory's own rules.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from shared.contract import events as ev
from shared.contract.envelope import wrap
from shared.contract.events.values import ModelPackageRef, PredictionEnvironment, Role, TargetType
from shared.contract.messages import Message
from shared.domain.recorded import Recorded
from shared.messaging.consumer import Inbound, Position
from shared.storage.counters import COUNTING, Counters, record_transition
from shared.storage.layout import unpacked
from shared.storage.projection import ProjectionStore, StaleProjection
from tests.unit.inventory.memory_db import Crash, MemoryClient

T0 = datetime(2026, 11, 1, tzinfo=UTC)
SUBJECTS = ("d1", "d2", "d3")
PRINCIPALS = ("alice", "bob", "team")
CALLERS: list[tuple[str, ...] | None] = [None, ("alice",), ("bob",), ("team",), ("bob", "team"), ("carol",)]
TOPICS = ("deployments", "monitoring")


class Toy(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    deployment_id: str
    created: bool = False
    deleted: bool = False
    audience: tuple[str, ...] = ()
    predictions: int = 0
    drift: str = "unknown"
    drift_at: datetime | None = None


def toy_evolve(state: Toy | None, event: Recorded[Any]) -> Toy:
    toy = state or Toy(deployment_id=event.subject)
    m = event.message
    if isinstance(m, ev.DeploymentCreated):
        return toy.model_copy(update={"created": True, "audience": tuple(sorted({*toy.audience, m.created_by}))})
    if isinstance(m, ev.DeploymentShared):
        return toy.model_copy(update={"audience": tuple(sorted({*toy.audience, m.principal}))})
    if isinstance(m, ev.DeploymentAccessRevoked):
        return toy.model_copy(update={"audience": tuple(p for p in toy.audience if p != m.principal)})
    if isinstance(m, ev.DeploymentDeleted):
        return toy.model_copy(update={"deleted": True})
    if isinstance(m, ev.PredictionsRecorded):
        return toy.model_copy(update={"predictions": toy.predictions + m.count})
    if isinstance(m, ev.DriftDetected) and (toy.drift_at is None or event.time >= toy.drift_at):
        return toy.model_copy(update={"drift": m.status.value, "drift_at": event.time})
    return toy


@dataclasses.dataclass(frozen=True)
class Share:
    audience: tuple[str, ...]
    counts: Mapping[str, int]


def toy_share(toy: Toy) -> Share | None:
    if not toy.created or toy.deleted:
        return None
    return Share(toy.audience, {"deployments": 1, "predictions": toy.predictions, f"drift:{toy.drift}": 1})


def store_on(client: MemoryClient) -> ProjectionStore[Toy]:
    db: Any = client["inventory"]
    return ProjectionStore(db["toys"], Toy, counters=Counters(db["toys_summary"]), contribute=toy_share)


async def counted(client: MemoryClient, principals: tuple[str, ...] | None) -> dict[str, int]:
    return await store_on(client).counters.read(principals)  # type: ignore[union-attr]


def recount(client: MemoryClient, principals: tuple[str, ...] | None) -> dict[str, int]:
    """Every document's share, summed over what `principals` may see, straight from the states."""
    summed: Counter[str] = Counter()
    for document in client["inventory"]["toys"].documents.values():
        share = toy_share(unpacked(Toy, document))
        if share and (principals is None or set(share.audience) & set(principals)):
            summed.update(share.counts)
    return {key: value for key, value in summed.items() if value}


async def assert_exact(client: MemoryClient) -> None:
    for principals in CALLERS:
        assert await counted(client, principals) == recount(client, principals), principals


# ---------------------------------------------------------------- a log and consumers of it


def package() -> ModelPackageRef:
    return ModelPackageRef(id="pkg", name="pkg", target_name="y", target_type=TargetType.BINARY)


def created(subject: str, by: str) -> ev.DeploymentCreated:
    environment = PredictionEnvironment(id="env", name="env", platform="aws")
    return ev.DeploymentCreated(
        deployment_id=subject, label=subject, model_package=package(), prediction_environment=environment, created_by=by
    )


@dataclasses.dataclass(frozen=True)
class Record:
    source: tuple[str, int]
    offset: int
    inbound: Inbound


class Log:
    """Partitions of records; an event may be published twice (same id, another offset)."""

    def __init__(self) -> None:
        self.partitions: dict[tuple[str, int], list[Record]] = {}
        self.clock = itertools.count()

    def publish(self, topic: str, partition: int, message: Message, event_id: str | None = None) -> str:
        records = self.partitions.setdefault((topic, partition), [])
        minute = next(self.clock)
        envelope = wrap(message, source="tests", time=T0 + timedelta(minutes=minute), event_id=event_id)
        inbound = Inbound(envelope, message, Position(topic, partition, len(records)))
        records.append(Record((topic, partition), len(records), inbound))
        return envelope.id


CONSUMER = contextvars.ContextVar("consumer", default="")


@dataclasses.dataclass
class Consumer:
    """Reads its partitions in order from the committed offsets, applies batches of the drawn sizes,
    commits after each; a crash restarts it from the committed offsets."""

    name: str
    partitions: list[tuple[str, int]]
    sizes: list[int]
    crash_at_calls: set[int]
    calls: int = 0

    def fail(self, collection: str, operation: str) -> None:
        if CONSUMER.get() != self.name:
            return
        self.calls += 1
        if self.calls in self.crash_at_calls:
            raise Crash(f"{self.name} dies at its call {self.calls} ({operation} on {collection})")

    async def run(self, log: Log, store: ProjectionStore[Toy], committed: dict[tuple[str, int], int]) -> None:
        CONSUMER.set(self.name)
        position = {p: committed.get(p, 0) for p in self.partitions}
        sizes = itertools.cycle(self.sizes or [3])
        for _ in range(500):
            if all(position[p] >= len(log.partitions.get(p, [])) for p in self.partitions):
                return
            size = next(sizes)
            batch = [r for p in self.partitions for r in log.partitions.get(p, [])[position[p] : position[p] + size]]
            batch.sort(key=lambda r: (r.offset, r.source))  # partitions interleave, each stays in order
            try:
                await store.apply([r.inbound for r in batch], toy_evolve)
            except StaleProjection:
                continue  # another writer got there first: read again
            except Crash:
                position = {p: committed.get(p, 0) for p in self.partitions}
                continue
            for record in batch:
                position[record.source] = max(position[record.source], record.offset + 1)
                committed[record.source] = position[record.source]
            await asyncio.sleep(0)
        raise AssertionError(f"{self.name} made no progress")


async def consume(log: Log, consumers: Sequence[Consumer], client: MemoryClient | None = None) -> MemoryClient:
    client = client or MemoryClient()

    def fail(collection: str, operation: str) -> None:
        for consumer in consumers:
            consumer.fail(collection, operation)

    client.fail = fail
    committed: dict[tuple[str, int], int] = {}
    await asyncio.gather(*(consumer.run(log, store_on(client), committed) for consumer in consumers))
    client.fail = None
    return client


# ---------------------------------------------------------------- named cases


async def test_a_crash_between_the_document_write_and_the_counter_write_is_counted_on_redelivery() -> None:
    log = Log()
    for subject in SUBJECTS:
        log.publish("deployments", 0, created(subject, "alice"))
        log.publish("monitoring", 0, ev.PredictionsRecorded(deployment_id=subject, count=5, predicted_at=T0))
    log.publish("deployments", 0, ev.DeploymentShared(deployment_id="d1", principal="team", role=Role.USER))
    log.publish("deployments", 0, ev.DeploymentDeleted(deployment_id="d2"))

    client = MemoryClient()
    store = store_on(client)
    batch = [r.inbound for p in log.partitions.values() for r in p]

    def die_at_the_counters(collection: str, operation: str) -> None:
        if collection == "toys_summary":
            raise Crash("dies after the documents, before the counters")

    client.fail = die_at_the_counters
    with pytest.raises(Crash):
        await store.apply(batch, toy_evolve)
    client.fail = None
    assert len(client["inventory"]["toys"].documents) == 3, "the documents were written"
    assert await counted(client, None) == {}, "the counters were not"

    # Redelivered cut differently: first the monitoring records alone, then everything.
    await store.apply([r.inbound for r in log.partitions[("monitoring", 0)]], toy_evolve)
    await store.apply(batch, toy_evolve)
    await assert_exact(client)
    assert await counted(client, ("team",)) == {"deployments": 1, "predictions": 5, "drift:unknown": 1}


async def test_two_writers_on_one_document_from_two_topics_count_its_final_state_once() -> None:
    """The other topic's consumer writes the document between this one's read and write: the loser
    of the revision race writes no counters, re-reads and counts its own step only."""
    log = Log()
    log.publish("deployments", 0, created("d1", "alice"))
    log.publish("monitoring", 0, ev.PredictionsRecorded(deployment_id="d1", count=3, predicted_at=T0))
    client = await consume(log, [Consumer("setup", [("deployments", 0), ("monitoring", 0)], [5], set())])

    log.publish("deployments", 0, ev.DeploymentDeleted(deployment_id="d1"))
    log.publish("monitoring", 0, ev.DriftDetected(deployment_id="d1", status="failing"))
    store = store_on(client)
    deleted, drifted = log.partitions[("deployments", 0)][-1:], log.partitions[("monitoring", 0)][-1:]
    results = await asyncio.gather(
        store.apply([r.inbound for r in deleted], toy_evolve),
        store_on(client).apply([r.inbound for r in drifted], toy_evolve),
        return_exceptions=True,
    )
    assert sum(isinstance(r, StaleProjection) for r in results) == 1, results
    for records, result in zip((deleted, drifted), results, strict=True):
        if isinstance(result, StaleProjection):
            await store.apply([r.inbound for r in records], toy_evolve)
    await assert_exact(client)
    assert await counted(client, None) == {}


async def test_an_event_published_twice_counts_once() -> None:
    log = Log()
    log.publish("deployments", 0, created("d1", "bob"))
    event_id = log.publish("monitoring", 0, ev.PredictionsRecorded(deployment_id="d1", count=7, predicted_at=T0))
    log.publish("monitoring", 0, ev.PredictionsRecorded(deployment_id="d1", count=7, predicted_at=T0), event_id)
    client = await consume(log, [Consumer("c", [("deployments", 0), ("monitoring", 0)], [1, 2], set())])
    await assert_exact(client)
    assert (await counted(client, ("bob",)))["predictions"] == 7


def test_a_transition_is_dropped_once_a_batch_starts_past_it() -> None:
    share = Share(("alice",), {"deployments": 1})
    previous = record_transition(None, share, ("deployments#0", 4), {"deployments#0": (0, 4)})
    previous = {"_id": "d1", "_rev": 1, **previous}
    assert len(previous[COUNTING]) == 1
    same_batch = record_transition(previous, Share(("alice",), {"deployments": 2}), ("monitoring#0", 9), {})
    assert [t["offset"] for t in same_batch[COUNTING]] == [4, 9], "not known to be counted: kept"
    later = record_transition(previous, share, ("deployments#0", 7), {"deployments#0": (5, 7)})
    assert later[COUNTING] == [], "anchored before the batch's first record: counted, and no new step"


# ---------------------------------------------------------------- any log, any crashes, any race


def any_message(draw: st.DrawFn) -> tuple[str, Message]:
    subject = draw(st.sampled_from(SUBJECTS))
    principal = draw(st.sampled_from(PRINCIPALS))
    kind = draw(st.integers(0, 6))
    if kind == 0:
        return "deployments", created(subject, principal)
    if kind == 1:
        return "deployments", ev.DeploymentShared(deployment_id=subject, principal=principal, role=Role.USER)
    if kind == 2:
        return "deployments", ev.DeploymentAccessRevoked(deployment_id=subject, principal=principal)
    if kind == 3:
        return "deployments", ev.DeploymentDeleted(deployment_id=subject)
    if kind == 4:
        status = draw(st.sampled_from(["passing", "warning", "failing"]))
        return "monitoring", ev.DriftDetected(deployment_id=subject, status=status)
    count = draw(st.integers(0, 9))
    return "monitoring", ev.PredictionsRecorded(deployment_id=subject, count=count, predicted_at=T0)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Log, list[Consumer]]:
    log = Log()
    published: list[tuple[str, int, Message, str]] = []
    for _ in range(draw(st.integers(1, 30))):
        topic, message = any_message(draw)
        # Partition 1 of each topic takes what a producer with another partitioner sends.
        partition = draw(st.sampled_from([0, 0, 0, 1]))
        if published and draw(st.integers(0, 9)) == 0:
            topic, partition, message, event_id = draw(st.sampled_from(published))  # published again
            log.publish(topic, partition, message, event_id)
        else:
            published.append((topic, partition, message, log.publish(topic, partition, message)))
    every = [(topic, partition) for topic in TOPICS for partition in (0, 1)]
    racing = draw(st.sampled_from(["alone", "by-topic", "zombie"]))
    split = {"alone": [every], "by-topic": [every[:2], every[2:]], "zombie": [every, every]}[racing]
    consumers = [
        Consumer(
            f"c{n}",
            partitions,
            draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)),
            set(draw(st.lists(st.integers(1, 60), max_size=3))),
        )
        for n, partitions in enumerate(split)
    ]
    return log, consumers


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_counters_equal_a_recount_whatever_crashes_and_races(scenario: tuple[Log, list[Consumer]]) -> None:
    log, consumers = scenario

    async def check() -> None:
        client = await consume(log, consumers)
        await assert_exact(client)

    asyncio.run(check())
