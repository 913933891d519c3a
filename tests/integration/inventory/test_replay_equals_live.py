"""A replay of the log rebuilds exactly the documents the live service built (issue 6, Build 2).

A long mixed stream (both topics, ~50 deployments, every event type the inventory folds, many equal
event times) is produced in a shuffled order, partly with keys on the wrong partition and partly with
no key, as producers with another partitioner do. The live service folds it in whatever interleaving
its consumer sees; the replay reads the same topics into a fresh collection, in another interleaving.
The documents must be equal, bookkeeping aside (`_rev` counts writes; `_applied` and `_counting`
depend on how batches were cut)."""

from __future__ import annotations

import asyncio
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
from shared.storage.mongo import Document, mongo_client
from tests.fixtures.inventory import RunningService
from tests.support import Publisher, created, package, until_applied

pytestmark = pytest.mark.integration

DEPLOYMENTS = 50
EVENTS_PER_DEPLOYMENT = 60
BOOKKEEPING = ("_rev", "_applied", "_counting")


def stream(rng: random.Random, now: datetime) -> list[tuple[Message, datetime]]:
    """Every event type, for DEPLOYMENTS deployments, at times drawn from a small set over ten days
    (so many are equal), with a few clusters within minutes and hours of each other."""
    instants = sorted(
        {now - timedelta(days=rng.uniform(0, 10)) for _ in range(300)}
        | {now - timedelta(minutes=rng.uniform(0, 150)) for _ in range(100)}
    )
    instants = [moment.replace(microsecond=0) for moment in instants]

    def when() -> datetime:
        return rng.choice(instants)

    items: list[tuple[Message, datetime]] = []
    for n in range(DEPLOYMENTS):
        d = f"replay-{n:02d}"
        runs = [f"{d}-run-{k}" for k in range(3)]
        principals = ["alice", "bob", "carol", "ml-team"]
        kinds: list[tuple[float, Any]] = [
            (40, lambda: ev.PredictionsRecorded(deployment_id=d, count=rng.randint(0, 50), predicted_at=when())),
            (
                12,
                lambda: rng.choice([ev.ServiceHealthChanged, ev.DriftDetected, ev.FairnessChanged, ev.AccuracyChanged])(
                    deployment_id=d,
                    status=rng.choice(["passing", "warning", "failing"]),
                    window=HealthWindow(start=when()),
                ),
            ),
            (
                6,
                lambda: rng.choice(
                    [
                        ev.DeploymentActivated(deployment_id=d),
                        ev.DeploymentDeactivated(deployment_id=d),
                        ev.DeploymentErrored(deployment_id=d, message="down"),
                    ]
                ),
            ),
            (
                4,
                lambda: ev.DeploymentSettingsChanged(
                    deployment_id=d,
                    label=rng.choice([None, f"Renamed {d}"]),
                    description=rng.choice([None, "", "new words"]),
                    tags=rng.choice([None, (), (Tag(name="env", value="prod"),)]),
                ),
            ),
            (3, lambda: ev.DeploymentImportanceChanged(deployment_id=d, importance=rng.choice(list(Importance)))),
            (
                4,
                lambda: ev.DeploymentShared(
                    deployment_id=d,
                    principal=rng.choice(principals),
                    principal_type=rng.choice(list(PrincipalType)),
                    role=rng.choice(list(Role)),
                ),
            ),
            (2, lambda: ev.DeploymentAccessRevoked(deployment_id=d, principal=rng.choice(principals))),
            (
                2,
                lambda: ev.DeploymentStatisticsCleared(
                    deployment_id=d, **rng.choice([{}, {"start": when(), "end": when()}, {"end": when()}])
                ),
            ),
            (
                3,
                lambda: ev.ModelReplaced(
                    deployment_id=d,
                    model_package=package(rng.choice(["pkg-2", "pkg-3"])),
                    reason=rng.choice(list(ReplacementReason)),
                ),
            ),
            (
                2,
                lambda: ev.ChallengerAdded(
                    deployment_id=d, challenger_id=rng.choice(["c1", "c2"]), model_package=package("pkg-c")
                ),
            ),
            (1, lambda: ev.ChallengerRemoved(deployment_id=d, challenger_id=rng.choice(["c1", "c2"]))),
            (
                3,
                lambda: ev.RetrainingRunStarted(
                    deployment_id=d,
                    run_id=rng.choice(runs),
                    policy_id="p1",
                    trigger=rng.choice(list(TriggerType)),
                    started_at=when(),
                ),
            ),
            (2, lambda: ev.RetrainingRunStepChanged(deployment_id=d, run_id=rng.choice(runs), step="training")),
            (
                2,
                lambda: rng.choice(
                    [
                        ev.RetrainingRunSucceeded(deployment_id=d, run_id=rng.choice(runs), finished_at=when()),
                        ev.RetrainingRunFailed(deployment_id=d, run_id=rng.choice(runs), finished_at=when(), error="x"),
                        ev.RetrainingRunCanceled(deployment_id=d, run_id=rng.choice(runs), finished_at=when()),
                    ]
                ),
            ),
            (0.5, lambda: ev.DeploymentDeleted(deployment_id=d)),
        ]
        weights = [weight for weight, _ in kinds]
        items.append((created(d, importance=rng.choice(list(Importance)), created_at=when()), when()))
        if rng.random() < 0.1:  # created twice: a producer bug the fold must settle the same way
            items.append((created(d, label=f"Again {d}", status=DeploymentStatus.INACTIVE), when()))
        for _ in range(EVENTS_PER_DEPLOYMENT):
            make = rng.choices([make for _, make in kinds], weights=weights)[0]
            items.append((make(), when()))
        if n % 17 == 0:
            items.append((ev.DeploymentErased(deployment_id=d), when()))
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
        key = envelope.subject.encode()
        roll = rng.random()
        if roll < 0.7:
            route, send = "keyed", {"key": key}
        elif roll < 0.85:
            right = partition_for(key, len(partitions))
            route, send = (
                "wrong-partition",
                {"key": key, "partition": rng.choice([p for p in partitions if p != right])},
            )
        else:
            route, send = "no-key", {"key": None, "partition": rng.choice(partitions)}
        routes[route] += 1
        futures.append(await producer.send(topic, value=value, headers=headers, **send))
    await asyncio.gather(*futures)
    return routes


def documents(rows: list[Document]) -> dict[str, Document]:
    return {row["_id"]: {k: v for k, v in row.items() if k not in BOOKKEEPING} for row in rows}


async def test_a_replay_of_a_long_mixed_stream_equals_the_live_projection(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    items = stream(random.Random(2026), datetime.now(UTC).replace(microsecond=0))
    routes = await produce(publisher, namespace, items)
    assert min(routes.values()) > 100, routes
    await until_applied(inventory.app, len(items), within=180)

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
            batch_size=200,
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
