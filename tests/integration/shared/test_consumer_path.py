"""The foundation's consumer path against a real broker and database: structured and binary
CloudEvents from a plain producer, duplicate delivery, and the dead-letter topic."""

from __future__ import annotations

from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from shared.contract.topology import Topics
from tests.fixtures.inventory import RunningService
from tests.integration.shared.records import creation, structured
from tests.support import Publisher, eventually


async def read_dead_letters(bootstrap: str, namespace: str, expected: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        Topics(namespace).dead_letters,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=f"{namespace}.dlq-reader",
    )
    await consumer.start()
    records: list[Any] = []
    try:

        async def enough() -> None:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
            assert len(records) >= expected, f"{len(records)} dead letters so far"

        await eventually(enough, within=30)
    finally:
        await consumer.stop()
    return records


async def test_structured_event_from_a_plain_producer_is_visible_over_http(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    topic = Topics(namespace).deployment_events
    await publisher.send(topic, structured("DeploymentCreated", "dep-1", creation("dep-1")), b"dep-1")

    async def visible() -> dict[str, Any]:
        response = await inventory.get("/deployments/dep-1")
        assert response.status_code == 200, response.text
        return dict(response.json())

    body = await eventually(visible)
    assert body["label"] == "Churn scorer"
    assert body["status"] == "active"
    assert body["health"]["drift"]["status"] == "unknown"


async def test_binary_mode_event_is_accepted(inventory: RunningService, publisher: Publisher, namespace: str) -> None:
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"evt-binary-1"),
        ("ce_type", b"DeploymentCreated"),
        ("ce_source", b"upstream/serving"),
        ("ce_subject", b"dep-2"),
        ("ce_time", b"2026-11-20T10:00:00Z"),
        ("content-type", b"application/json"),
    ]
    topic = Topics(namespace).deployment_events
    await publisher.send(topic, orjson.dumps(creation("dep-2")), b"dep-2", headers)

    async def visible() -> None:
        assert (await inventory.get("/deployments/dep-2")).status_code == 200

    await eventually(visible)


async def test_the_same_event_delivered_twice_is_applied_once(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    topics = Topics(namespace)
    await publisher.send(
        topics.deployment_events, structured("DeploymentCreated", "dep-3", creation("dep-3")), b"dep-3"
    )
    predictions = structured(
        "PredictionsRecorded",
        "dep-3",
        {"deployment_id": "dep-3", "count": 40, "predicted_at": "2026-11-20T10:00:00Z"},
        event_id="evt-pred-1",
    )
    await publisher.send(topics.monitoring_events, predictions, b"dep-3")
    await publisher.send(topics.monitoring_events, predictions, b"dep-3")
    marker = structured(
        "PredictionsRecorded",
        "dep-3",
        {"deployment_id": "dep-3", "count": 2, "predicted_at": "2026-11-20T11:00:00Z"},
        event_id="evt-pred-2",
    )
    await publisher.send(topics.monitoring_events, marker, b"dep-3")

    async def counted() -> None:
        response = await inventory.get("/deployments/dep-3")
        assert response.status_code == 200
        assert response.json()["predictions"]["total"] == 42

    await eventually(counted)


async def test_bad_records_go_to_the_dead_letter_topic_and_the_consumer_keeps_going(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Any
) -> None:
    topic = Topics(namespace).deployment_events
    not_json = b"\x00\xffnot json at all"
    unknown = structured("DeploymentTeleported", "dep-4", {"deployment_id": "dep-4"})
    invalid_data = creation("dep-4") | {"importance": "EXTREME"}
    violating = structured("DeploymentCreated", "dep-4", invalid_data)
    await publisher.send(topic, not_json, b"dep-4", [("trace", b"\xff\xfe")])
    await publisher.send(topic, unknown, b"dep-4")
    await publisher.send(topic, violating, b"dep-4")
    await publisher.send(topic, structured("DeploymentCreated", "dep-4", creation("dep-4")), b"dep-4")

    async def applied() -> None:
        assert (await inventory.get("/deployments/dep-4")).status_code == 200

    await eventually(applied)
    letters = await read_dead_letters(infra.kafka, namespace, expected=3)
    by_code = {dict(r.headers)["dlq-error-code"].decode(): r for r in letters}
    assert set(by_code) == {"not-json", "unknown-type", "schema-violation"}
    assert by_code["not-json"].value == not_json
    assert dict(by_code["not-json"].headers)["trace"] == b"\xff\xfe"
    assert by_code["unknown-type"].value == unknown
    violation = dict(by_code["schema-violation"].headers)
    assert b"importance" in violation["dlq-error"]
    assert violation["dlq-source-topic"].decode() == topic
    assert violation["dlq-service"] == b"inventory"
    assert int(violation["dlq-source-offset"]) == 2
    assert all(r.key == b"dep-4" for r in letters)


async def test_metrics_count_applied_and_dead_lettered_events(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    topic = Topics(namespace).deployment_events
    await publisher.send(topic, b"not json", b"dep-5")
    await publisher.send(topic, structured("DeploymentCreated", "dep-5", creation("dep-5")), b"dep-5")

    async def counted() -> str:
        text = (await inventory.http.get("/metrics")).text
        assert 'lifecycle_events_dead_lettered_total{code="not-json"} 1.0' in text
        assert 'lifecycle_events_applied_total{type="DeploymentCreated"} 1.0' in text
        return text

    text = await eventually(counted)
    assert "lifecycle_consumer_lag_seconds" in text
    assert "lifecycle_handler_seconds_count" in text
