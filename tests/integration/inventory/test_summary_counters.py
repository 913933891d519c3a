"""The summary counters on the real database, with the inventory's own rules: exact after a crash
between the deployment write and the counter write, after two writers race on one deployment, and
read by `_id` only (no aggregation, no scan) for every kind of caller."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from services.inventory.adapters.store import InventoryStore
from shared.contract import events as ev
from shared.contract.envelope import wrap
from shared.contract.events.values import PrincipalType, Role
from shared.contract.messages import Message
from shared.messaging.consumer import Inbound, Position
from shared.storage.backend import backend_of
from shared.storage.mongo import Document, mongo_client
from shared.storage.projection import StaleProjection
from tests.fixtures.inventory import RunningService
from tests.infra import Infra
from tests.integration.inventory.recount import CALLERS, assert_counters_exact, counted, recount
from tests.support import Publisher, at, created, eventually, health_report, predictions

pytestmark = pytest.mark.integration


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.sent: list[Document] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in ("buildInfo", "endSessions", "hello", "isMaster", "ismaster"):
            self.sent.append({"name": event.command_name, **event.command})

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest_asyncio.fixture
async def database(infra: Infra, namespace: str) -> AsyncIterator[AsyncDatabase[Document]]:
    client = mongo_client(infra.mongo_url)
    try:
        yield client[f"inv_{namespace}"]
    finally:
        await client.drop_database(f"inv_{namespace}")
        await client.close()


class Log:
    """Records on two partitions, as the consumer would hand them to the store."""

    def __init__(self) -> None:
        self.offsets: dict[str, int] = {}

    def records(self, topic: str, messages: Sequence[tuple[Message, Any]]) -> list[Inbound]:
        batch = []
        for message, time in messages:
            offset = self.offsets.get(topic, 0)
            self.offsets[topic] = offset + 1
            batch.append(Inbound(wrap(message, source="tests", time=time), message, Position(topic, 0, offset)))
        return batch


def group_share(deployment: str) -> ev.DeploymentShared:
    return ev.DeploymentShared(
        deployment_id=deployment, principal="ml-team", principal_type=PrincipalType.GROUP, role=Role.USER
    )


async def test_a_crash_between_the_deployment_write_and_the_counter_write_is_counted_once(
    database: AsyncDatabase[Document],
) -> None:
    log = Log()
    store = InventoryStore(database)
    fleet = [f"crash-{n}" for n in range(6)]
    first = log.records(
        "deployment", [(created(d, owners=("bob",) if n % 2 else ()), at(n)) for n, d in enumerate(fleet)]
    )
    first += log.records("deployment", [(group_share(d), at(10)) for d in fleet[:3]])
    monitoring_records = log.records(
        "monitoring", [(predictions(d, 10 + n, at(20)), None) for n, d in enumerate(fleet)]
    )
    monitoring_records += log.records(
        "monitoring", [(health_report(d, "drift", "failing"), at(21)) for d in fleet[::2]]
    )
    deactivations = log.records("deployment", [(ev.DeploymentDeactivated(deployment_id=fleet[4]), at(22))])
    await store.apply(first)

    original = store.counters.settle

    async def die(*_: Any) -> None:
        raise RuntimeError("simulated crash: deployments written, counters not")

    store.counters.settle = die  # type: ignore[method-assign,assignment]
    with pytest.raises(RuntimeError, match="simulated crash"):
        await store.apply([*monitoring_records, *deactivations])
    store.counters.settle = original  # type: ignore[method-assign]
    totals = {view.deployment_id: view.predictions.total for view in [await store.get(d) for d in fleet] if view}
    assert totals == {d: 10 + n for n, d in enumerate(fleet)}, "the deployments were written"
    assert (await counted(database, CALLERS["admin"]))["predictions"] == 0, "the counters were not"

    # Redelivered cut differently: the deployment topic's record alone, then the monitoring ones.
    await store.apply(deactivations)
    await store.apply(monitoring_records)
    await assert_counters_exact(database)
    assert (await counted(database, CALLERS["admin"]))["predictions"] == sum(10 + n for n in range(6))


async def test_two_writers_racing_on_the_same_deployments_count_each_once(database: AsyncDatabase[Document]) -> None:
    """The deployment topic's consumer and the monitoring topic's (or one that lost its partitions)
    write the same documents at once: the loser of each revision race counts nothing, re-reads and
    redoes its batch."""
    if not (await backend_of(database.client)).atomic_revision_guard:
        pytest.skip(
            "this database cannot refuse the losing write of a race (FerretDB v1 without the PostgreSQL "
            "trigger of shared.storage.ferretdb_postgres, e.g. on SQLite): both writers would pass"
        )
    log = Log()
    fleet = [f"race-{n}" for n in range(8)]
    await InventoryStore(database).apply(log.records("deployment", [(created(d), at(0)) for d in fleet]))
    deployment_side = log.records(
        "deployment",
        [(ev.DeploymentDeleted(deployment_id=d), at(5)) for d in fleet[:3]]
        + [(group_share(d), at(5)) for d in fleet[3:6]],
    )
    monitoring_side = log.records(
        "monitoring",
        [(health_report(d, "service", "warning"), at(6)) for d in fleet]
        + [(predictions(d, 7, at(6)), None) for d in fleet],
    )

    async def consume(batch: list[Inbound]) -> int:
        store = InventoryStore(database)  # each writer with its own store, as two processes would
        for attempt in range(20):
            try:
                await store.apply(batch)
                return attempt
            except StaleProjection:
                continue
        raise AssertionError("never got through")

    retries = await asyncio.gather(consume(deployment_side), consume(monitoring_side))
    await assert_counters_exact(database)
    admin = await counted(database, CALLERS["admin"])
    assert (admin["deployments"], admin["predictions"], admin["service"]["warning"]) == (5, 35, 5), retries
    assert (await counted(database, CALLERS["bob with ml-team"]))["deployments"] == 3


async def test_the_summary_is_read_by_id_only(database: AsyncDatabase[Document], infra: Infra) -> None:
    log = Log()
    fleet = [f"read-{n}" for n in range(5)]
    await InventoryStore(database).apply(
        log.records(
            "deployment", [(created(d, owners=("bob",)), at(0)) for d in fleet] + [(group_share(fleet[0]), at(1))]
        )
    )
    listener = Commands()
    watched: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongo_url, tz_aware=True, event_listeners=[listener])
    try:
        store = InventoryStore(watched[database.name])
        for name, caller in CALLERS.items():
            listener.sent.clear()
            await store.summary(caller)
            assert listener.sent, name
            for command in listener.sent:
                assert command["name"] == "find", (name, command)
                assert set(command["filter"]) == {"_id"}, (name, command["filter"])
    finally:
        await watched.close()


async def test_the_summary_endpoint_serves_the_counters_for_every_caller(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    fleet = [f"http-{n}" for n in range(6)]
    items: list[tuple[Message, Any]] = [
        (created(d, owners=("bob",) if n % 3 == 0 else ()), at(n)) for n, d in enumerate(fleet)
    ]
    items += [
        (group_share(fleet[1]), at(10)),
        (ev.DeploymentShared(deployment_id=fleet[2], principal="carol", role=Role.CONSUMER), at(10)),
    ]
    items += [(predictions(d, 3, at(20)), None) for d in fleet]
    items += [
        (ev.DeploymentDeleted(deployment_id=fleet[5]), at(30)),
        (health_report(fleet[0], "accuracy", "failing"), at(31)),
    ]
    await publisher.emit_many(namespace, items)
    db = inventory.app.state.store.collection.database
    tokens = {"admin-token": "admin", "alice-token": "alice", "bob-token": "bob with ml-team", "carol-token": "carol"}

    async def served_as_recounted() -> None:
        for token, name in tokens.items():
            response = await inventory.get("/deployments/summary", token)
            assert response.status_code == 200, response.text
            assert response.json() == await recount(db, CALLERS[name]), name

    await eventually(served_as_recounted, within=60, interval=0.3)
    assert (await inventory.get("/deployments/summary", "carol-token")).json()["deployments"] == 0
