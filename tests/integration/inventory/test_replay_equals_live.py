"""A replay of the log rebuilds exactly the documents the live service built (issue 6, Build 2).

A long mixed stream (both topics, ~50 deployments, every event type the inventory folds, many equal
event times) is produced in a shuffled order, partly with keys on the wrong partition and partly with
no key, as producers with another partitioner do. The live service folds it in whatever interleaving
its consumer sees; the replay reads the same topics into a fresh collection, in another interleaving.
The documents must be equal, bookkeeping aside (`_rev` counts writes; `_applied` and `_counting`
depend on how batches were cut)."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.inventory.adapters.store import InventoryStore
from services.inventory.bootstrap import inventory_registry
from shared.contract import events as ev
from shared.contract.envelope import to_structured, wrap
from shared.contract.events.retraining import TriggerType
from shared.contract.events.values import (
    DeploymentStatus,
    HealthWindow,
    Importance,
    PrincipalType,
    ReplacementReason,
    Role,
    Tag,
)
from shared.contract.messages import Message
from shared.contract.topology import Topics
from shared.messaging.partitioning import partition_for
from shared.messaging.replay import replay
from shared.storage.layout import STATE
from shared.storage.mongo import Document, mongo_client
from tests.fixtures.inventory import RunningService
from tests.support import Publisher, created, package, until_applied

pytestmark = pytest.mark.integration

# ~2,000 events. On FerretDB v1 a batch costs about one revision-guarded write per deployment it
# touches, each scanning the collection, so the run time grows with the square of the deployments:
# 25 take about a minute (both folds), 50 about five.
DEPLOYMENTS = 25
EVENTS_PER_DEPLOYMENT = 80
BOOKKEEPING = ("_rev", "_applied", "_counting")


class Draw:
    """Random events of one deployment, at times drawn from a small set (so many are equal)."""

    def __init__(self, rng: random.Random, instants: list[datetime], deployment_id: str) -> None:
        self.rng, self.instants, self.d = rng, instants, deployment_id
        self.runs = [f"{deployment_id}-run-{k}" for k in range(3)]

    def when(self) -> datetime:
        return self.rng.choice(self.instants)

    def pick(self, *choices: Any) -> Any:
        return self.rng.choice(choices)

    def any_event(self) -> Message:
        builders = [
            (40, self.predictions),
            (12, self.health),
            (6, self.status),
            (4, self.settings),
            (3, self.importance),
            (4, self.share),
            (2, self.revoke),
            (2, self.clear),
            (3, self.replace),
            (3, self.challenger),
            (3, self.run_started),
            (4, self.run_update),
            (0.5, lambda: ev.DeploymentDeleted(deployment_id=self.d)),
        ]
        build = self.rng.choices([b for _, b in builders], weights=[w for w, _ in builders])[0]
        return build()

    def predictions(self) -> Message:
        return ev.PredictionsRecorded(deployment_id=self.d, count=self.rng.randint(0, 50), predicted_at=self.when())

    def health(self) -> Message:
        kind = self.pick(ev.ServiceHealthChanged, ev.DriftDetected, ev.FairnessChanged, ev.AccuracyChanged)
        status = self.pick("passing", "warning", "failing")
        return kind(deployment_id=self.d, status=status, window=HealthWindow(start=self.when()))  # type: ignore[no-any-return]

    def status(self) -> Message:
        kind = self.pick(ev.DeploymentActivated, ev.DeploymentDeactivated, ev.DeploymentErrored)
        return kind(deployment_id=self.d)  # type: ignore[no-any-return]

    def settings(self) -> Message:
        return ev.DeploymentSettingsChanged(
            deployment_id=self.d,
            label=self.pick(None, f"Renamed {self.d}"),
            description=self.pick(None, "", "new words"),
            tags=self.pick(None, (), (Tag(name="env", value="prod"),)),
        )

    def importance(self) -> Message:
        return ev.DeploymentImportanceChanged(deployment_id=self.d, importance=self.pick(*Importance))

    def share(self) -> Message:
        return ev.DeploymentShared(
            deployment_id=self.d,
            principal=self.pick(*PRINCIPALS),
            principal_type=self.pick(*PrincipalType),
            role=self.pick(*Role),
        )

    def revoke(self) -> Message:
        return ev.DeploymentAccessRevoked(deployment_id=self.d, principal=self.pick(*PRINCIPALS))

    def clear(self) -> Message:
        ranges: tuple[dict[str, datetime], ...] = ({}, {"start": self.when(), "end": self.when()}, {"end": self.when()})
        return ev.DeploymentStatisticsCleared(deployment_id=self.d, **self.pick(*ranges))

    def replace(self) -> Message:
        return ev.ModelReplaced(
            deployment_id=self.d,
            model_package=package(self.pick("pkg-2", "pkg-3")),
            reason=self.pick(*ReplacementReason),
        )

    def challenger(self) -> Message:
        challenger_id = self.pick("c1", "c2")
        if self.rng.random() < 0.3:
            return ev.ChallengerRemoved(deployment_id=self.d, challenger_id=challenger_id)
        return ev.ChallengerAdded(deployment_id=self.d, challenger_id=challenger_id, model_package=package("pkg-c"))

    def run_started(self) -> Message:
        return ev.RetrainingRunStarted(
            deployment_id=self.d,
            run_id=self.pick(*self.runs),
            policy_id="p1",
            trigger=self.pick(*TriggerType),
            started_at=self.when(),
        )

    def run_update(self) -> Message:
        run_id, d = self.pick(*self.runs), self.d
        return self.pick(  # type: ignore[no-any-return]
            ev.RetrainingRunStepChanged(deployment_id=d, run_id=run_id, step=self.pick("training", "replacing")),
            ev.RetrainingRunSucceeded(deployment_id=d, run_id=run_id, finished_at=self.when(), model_package_id="p9"),
            ev.RetrainingRunFailed(deployment_id=d, run_id=run_id, finished_at=self.when(), error="x"),
            ev.RetrainingRunCanceled(deployment_id=d, run_id=run_id, finished_at=self.when()),
        )


PRINCIPALS = ("alice", "bob", "carol", "ml-team")


def stream(rng: random.Random, now: datetime) -> list[tuple[Message, datetime]]:
    """Every event type for DEPLOYMENTS deployments over ten days, with clusters within minutes and
    hours of each other (prediction buckets of every precision), shuffled."""
    instants = sorted(
        {(now - timedelta(days=rng.uniform(0, 10))).replace(microsecond=0) for _ in range(300)}
        | {(now - timedelta(minutes=rng.uniform(0, 150))).replace(microsecond=0) for _ in range(100)}
    )
    items: list[tuple[Message, datetime]] = []
    for n in range(DEPLOYMENTS):
        draw = Draw(rng, instants, f"replay-{n:02d}")
        items.append((created(draw.d, importance=draw.pick(*Importance), created_at=draw.when()), draw.when()))
        if rng.random() < 0.1:  # created twice: a producer bug the fold must settle the same way
            again = created(draw.d, label=f"Again {draw.d}", status=DeploymentStatus.INACTIVE)
            items.append((again, draw.when()))
        items += [(draw.any_event(), draw.when()) for _ in range(EVENTS_PER_DEPLOYMENT)]
        if n % 17 == 0:
            items.append((ev.DeploymentErased(deployment_id=draw.d), draw.when()))
    rng.shuffle(items)
    return items


async def produce(publisher: Publisher, namespace: str, items: list[tuple[Message, datetime]]) -> dict[str, int]:
    """70% keyed with murmur2 (aiokafka's default), 15% keyed but on another partition, 15% with no key."""
    producer = publisher.producer
    assert producer is not None
    topics = Topics(namespace)
    rng = random.Random(7)
    routes = {"keyed": 0, "wrong-partition": 0, "no-key": 0}
    futures = []
    for message, time in items:
        envelope = wrap(message, source="tests/replay", event_id=str(uuid.uuid4()), time=time, actor="tester")
        value, headers = to_structured(envelope)
        topic = topics.for_stream(message.stream)
        partitions = sorted(await producer.partitions_for(topic))
        key: bytes | None = envelope.subject.encode()
        partition: int | None = None  # None: the producer's partitioner (murmur2) decides
        roll = rng.random()
        if roll < 0.7:
            route = "keyed"
        elif roll < 0.85:
            assert key is not None
            right = partition_for(key, len(partitions))
            route, partition = "wrong-partition", rng.choice([p for p in partitions if p != right])
        else:
            route, key, partition = "no-key", None, rng.choice(partitions)
        routes[route] += 1
        futures.append(await producer.send(topic, value=value, key=key, partition=partition, headers=headers))
    await asyncio.gather(*futures)
    return routes


def documents(rows: list[Document]) -> dict[str, Document]:
    """The documents without bookkeeping, the packed state as data (its text may order a mapping
    differently)."""
    return {
        row["_id"]: {k: json.loads(v) if k == STATE else v for k, v in row.items() if k not in BOOKKEEPING}
        for row in rows
    }


async def test_a_replay_of_a_long_mixed_stream_equals_the_live_projection(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    items = stream(random.Random(2026), datetime.now(UTC).replace(microsecond=0))
    routes = await produce(publisher, namespace, items)
    assert min(routes.values()) > 100, routes
    await until_applied(inventory.app, len(items), within=150)

    settings = inventory.settings
    client = mongo_client(settings.mongo.url)
    try:
        db = client[settings.mongo.database]
        rebuilt = InventoryStore(db, collection="deployments_replayed")
        await rebuilt.create_indexes()
        stats = await replay(
            settings.kafka.bootstrap_servers,
            [settings.topics.deployment_events, settings.topics.monitoring_events],
            rebuilt.apply,
            inventory_registry(),
            batch_size=1000,  # as `lifecycle replay` does
        )
        assert (stats.records, stats.applied, stats.invalid) == (len(items), len(items), 0)
        live = documents([row async for row in db["deployments"].find({})])
        replayed = documents([row async for row in db["deployments_replayed"].find({})])
    finally:
        await client.close()

    assert len(live) == DEPLOYMENTS
    assert sorted(live) == sorted(replayed)
    different = [d for d in live if live[d] != replayed[d]]
    assert different == [], f"{len(different)} documents differ, e.g. {different[0]}"
    # The stream exercised what it was meant to.
    statuses = {document["status"] for document in live.values()}
    assert {"erased", "deleted"} <= statuses and len(statuses) >= 4, statuses
    assert sum(document["predictions"]["total"] for document in live.values()) > 0
