"""One bad record never stalls its partition: records the schemas forbid and records the handler
fails on are dead-lettered exactly once, everything else around them is applied; transient failures
are retried in place and never dead-lettered. Real broker and database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pymongo.errors import AutoReconnect

from services.inventory.bootstrap import inventory_registry
from services.inventory.domain.evolve import evolve
from shared.contract.topology import Topics
from shared.messaging.consumer import BatchConsumer, Inbound
from shared.messaging.dead_letters import DeadLetters, MongoLedger
from shared.messaging.publisher import standalone_publisher
from shared.messaging.reader import read_all
from shared.service.metrics import ServiceMetrics
from shared.service.settings import ConsumerSettings
from shared.storage.mongo import mongo_client
from tests.fixtures.inventory import RunningService
from tests.infra import Infra
from tests.integration.shared.records import creation, dead_letters, header, keys_on_one_partition, structured
from tests.support import Publisher, eventually

Handler = Callable[[Sequence[Inbound]], Awaitable[object]]


async def send_together(publisher: Publisher, topic: str, records: list[tuple[bytes, str]]) -> None:
    """Produce without waiting in between, so the consumer sees them in one batch."""
    assert publisher.producer is not None
    futures = [await publisher.producer.send(topic, value=value, key=key.encode()) for value, key in records]
    await asyncio.gather(*futures)


async def visible(inventory: RunningService, deployment_id: str) -> dict[str, Any]:
    response = await inventory.get(f"/deployments/{deployment_id}")
    assert response.status_code == 200, f"{deployment_id}: {response.status_code}"
    return dict(response.json())


async def settled_dead_letters(infra: Infra, namespace: str, expected: int) -> list[Any]:
    """The dead letters once at least `expected` are there and a few more retry rounds have passed
    (the consumer backs off 0.2 s in tests), so that a repeat would have shown."""

    async def enough() -> list[Any]:
        letters = await dead_letters(infra.kafka, namespace)
        assert len(letters) >= expected, f"{len(letters)} dead letters so far"
        return letters

    await eventually(enough)
    await asyncio.sleep(2)
    return await dead_letters(infra.kafka, namespace)


def metric(inventory: RunningService, name: str, **labels: str) -> float:
    value = inventory.app.state.runtime.metrics.registry.get_sample_value(name, labels)
    return float(value or 0.0)


async def test_naive_times_are_dead_lettered_once_and_the_rest_of_their_partition_is_applied(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    topics = Topics(namespace)
    poisoned, *neighbours = keys_on_one_partition("naive", 6)
    health = {"deployment_id": poisoned, "status": "passing"}
    await publisher.send(topics.deployment_events, structured("DeploymentCreated", poisoned, creation(poisoned)))
    await publisher.send(
        topics.monitoring_events, structured("ServiceHealthChanged", poisoned, health), poisoned.encode()
    )
    await eventually(lambda: visible(inventory, poisoned))

    naive_envelope = structured(
        "ServiceHealthChanged", poisoned, health | {"status": "failing"}, time="2026-11-27T12:00:00"
    )
    naive_payload = structured(
        "PredictionsRecorded",
        poisoned,
        {"deployment_id": poisoned, "count": 5, "predicted_at": "2026-11-27T12:00:00"},
    )
    after = [
        structured(
            "DriftDetected", poisoned, {"deployment_id": poisoned, "status": "warning"}, time="2026-11-21T00:00:00Z"
        ),
        structured(
            "PredictionsRecorded",
            poisoned,
            {"deployment_id": poisoned, "count": 7, "predicted_at": "2026-11-21T00:00:00Z"},
        ),
    ]
    await send_together(
        publisher,
        topics.monitoring_events,
        [(naive_envelope, poisoned), (naive_payload, poisoned)] + [(a, poisoned) for a in after],
    )
    await send_together(
        publisher, topics.deployment_events, [(structured("DeploymentCreated", n, creation(n)), n) for n in neighbours]
    )

    async def all_applied() -> None:
        body = await visible(inventory, poisoned)
        assert body["health"]["drift"]["status"] == "warning"
        assert body["health"]["service"]["status"] == "passing"  # the naive report is not applied
        assert body["predictions"]["total"] == 7
        for neighbour in neighbours:
            await visible(inventory, neighbour)

    await eventually(all_applied)
    letters = await settled_dead_letters(infra, namespace, expected=2)
    assert sorted(header(letter, "dlq-error-code") for letter in letters) == ["bad-envelope", "schema-violation"]
    by_code = {header(letter, "dlq-error-code"): letter for letter in letters}
    assert by_code["bad-envelope"].value == naive_envelope
    assert "time" in header(by_code["bad-envelope"], "dlq-error")
    assert by_code["schema-violation"].value == naive_payload
    assert "predicted_at" in header(by_code["schema-violation"], "dlq-error")
    assert metric(inventory, "lifecycle_events_dead_lettered_total", code="bad-envelope") == 1


def fail_on(handler: Handler, event_ids: set[str], error: Callable[[], Exception]) -> Handler:
    """The handler, raising `error()` for any batch that holds one of `event_ids`."""

    async def wrapped(batch: Sequence[Inbound]) -> object:
        if any(item.envelope.id in event_ids for item in batch):
            raise error()
        return await handler(batch)

    return wrapped


async def test_a_record_the_handler_fails_on_is_dead_lettered_once_and_the_rest_applied(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    consumer: BatchConsumer = inventory.app.state.consumer
    consumer.handler = fail_on(consumer.handler, {"evt-choke"}, lambda: ValueError("cannot fold this"))
    topic = Topics(namespace).deployment_events
    fleet = keys_on_one_partition("choke", 12)
    records = [(structured("DeploymentCreated", d, creation(d)), d) for d in fleet]
    records.insert(5, (structured("DeploymentCreated", "choked", creation("choked"), event_id="evt-choke"), "choked"))
    await send_together(publisher, topic, records)

    async def applied() -> None:
        for deployment in fleet:
            await visible(inventory, deployment)

    await eventually(applied)
    letters = await settled_dead_letters(infra, namespace, expected=1)
    assert len(letters) == 1
    letter = letters[0]
    assert letter.value == records[5][0]
    assert letter.key == b"choked"
    assert header(letter, "dlq-error-code") == "handler-error"
    assert header(letter, "dlq-error") == "ValueError: cannot fold this"
    assert header(letter, "dlq-service") == "inventory"
    assert header(letter, "dlq-source-topic") == topic
    assert header(letter, "dlq-id")
    assert (await inventory.get("/deployments/choked")).status_code == 404


async def test_transient_failures_are_retried_in_place_and_never_dead_lettered(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    consumer: BatchConsumer = inventory.app.state.consumer
    outage = True
    real = consumer.handler

    async def flaky(batch: Sequence[Inbound]) -> object:
        if outage:
            raise AutoReconnect("connection refused")
        return await real(batch)

    consumer.handler = flaky
    topic = Topics(namespace).deployment_events
    await publisher.send(topic, structured("DeploymentCreated", "t-1", creation("t-1")), b"t-1")
    await eventually(lambda: _failed_at_least(inventory, 3))
    outage = False
    await eventually(lambda: visible(inventory, "t-1"))
    assert await dead_letters(infra.kafka, namespace) == []


async def _failed_at_least(inventory: RunningService, count: int) -> None:
    assert metric(inventory, "lifecycle_batch_failures_total") >= count


async def test_a_redelivered_batch_is_dead_lettered_at_most_once_per_position(
    infra: Infra, namespace: str, publisher: Publisher
) -> None:
    """Redelivery after a crash, or a restart before the commit: the same records through a new
    consumer (same group) letter nothing again."""
    topics = Topics(namespace)
    await publisher.send(topics.deployment_events, b"not json", b"r-1")
    await publisher.send(
        topics.deployment_events, structured("DeploymentCreated", "r-2", creation("r-2"), event_id="evt-r2"), b"r-2"
    )
    await publisher.send(topics.deployment_events, structured("DeploymentCreated", "r-3", creation("r-3")), b"r-3")
    records = [record async for record in read_all(infra.kafka, [topics.deployment_events])]
    assert len(records) == 3
    client = mongo_client(infra.mongo_url)
    ledger = MongoLedger(client[f"dlq_{namespace}"]["dead_letter_ledger"])
    applied: list[str] = []

    async def handler(batch: Sequence[Inbound]) -> None:
        if any(item.envelope.id == "evt-r2" for item in batch):
            raise KeyError("evt-r2")
        applied.extend(item.envelope.subject for item in batch)

    try:
        async with standalone_publisher(infra.kafka, topics, source="tests") as sender:
            for _ in range(3):
                consumer = BatchConsumer(
                    service="tests",
                    group_id=f"{namespace}.tests",
                    registry=inventory_registry(),
                    handler=handler,
                    dead_letters=DeadLetters(sender, topics.dead_letters, ledger, service="tests"),
                    metrics=ServiceMetrics("tests"),
                    settings=ConsumerSettings(retry_backoff_s=0.05, retry_backoff_max_s=0.2),
                )
                await consumer.process(records)
    finally:
        await client.drop_database(f"dlq_{namespace}")
        await client.close()
    letters = await dead_letters(infra.kafka, namespace)
    assert sorted(header(letter, "dlq-error-code") for letter in letters) == ["handler-error", "not-json"]
    assert applied == ["r-3"] * 3  # applied every time (handlers dedupe), lettered once


async def test_a_handler_error_letter_re_driven_after_the_fix_is_applied(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra, monkeypatch: Any
) -> None:
    """The failed attempt claimed the event id in the projection's ledger before the domain raised;
    the claim is given back with the dead letter, so the re-driven copy (a new offset) is applied."""
    broken = {"on": True}

    def evolve_with_a_bug(state: Any, event: Any) -> Any:
        if broken["on"] and event.id == "evt-bug":
            raise KeyError("a bug in the domain")
        return evolve(state, event)

    monkeypatch.setattr("services.inventory.adapters.store.evolve", evolve_with_a_bug)
    topic = Topics(namespace).deployment_events
    record = structured("DeploymentCreated", "buggy", creation("buggy"), event_id="evt-bug")
    await send_together(publisher, topic, [(structured("DeploymentCreated", "fine", creation("fine")), "fine")])
    await send_together(publisher, topic, [(record, "buggy")])
    [letter] = await settled_dead_letters(infra, namespace, expected=1)
    assert header(letter, "dlq-error-code") == "handler-error"
    assert (await inventory.get("/deployments/buggy")).status_code == 404

    broken["on"] = False  # the fix is deployed; the operator re-drives the letter to its source topic
    await publisher.send(header(letter, "dlq-source-topic"), letter.value, letter.key)
    await eventually(lambda: visible(inventory, "buggy"))
