"""The inventory's subscriber path in memory (FastStream's TestKafkaBroker): the bootstrap's own
wiring, registry and dead-letter path, with no Kafka and no database. What a real broker and
database add is covered by tests/integration/."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.inventory.bootstrap import subscribe_projection
from services.inventory.settings import InventorySettings
from shared.contract import events as ev
from shared.messaging.consumer import Inbound
from shared.messaging.dead_letters import DeadLetters, Header, MemoryLedger
from shared.messaging.publisher import KafkaPublisher, kafka_broker
from shared.service.metrics import ServiceMetrics

NAMESPACE = "in-memory"


@dataclasses.dataclass
class Wired:
    broker: KafkaBroker
    settings: InventorySettings
    applied: list[Inbound]
    letters: list[ConsumerRecord[bytes, bytes]]
    fail_on: set[str]

    async def send(self, topic: str, value: bytes, key: bytes = b"dep-1") -> None:
        await self.broker.publish(value, topic, key=key)

    def codes(self) -> list[str]:
        return [dict(letter.headers)[Header.CODE].decode() for letter in self.letters]


@pytest.fixture
async def wired() -> AsyncIterator[Wired]:
    settings = InventorySettings(kafka={"topic_namespace": NAMESPACE}, consumer={"retry_backoff_s": 0})
    broker = kafka_broker("in-memory:9092", client_id="inventory")
    publisher = KafkaPublisher(broker, settings.topics, source="inventory")
    dead_letters = DeadLetters(publisher, settings.topics.dead_letters, MemoryLedger(), service="inventory")
    applied: list[Inbound] = []
    letters: list[ConsumerRecord[bytes, bytes]] = []
    fail_on: set[str] = set()

    async def handler(batch: Sequence[Inbound]) -> None:
        broken = [item.envelope.id for item in batch if item.envelope.id in fail_on]
        if broken:
            raise ValueError(f"cannot apply {broken}")
        applied.extend(batch)

    @broker.subscriber(settings.topics.dead_letters, group_id="dlq-reader")
    async def dead_letter_reader(message: KafkaMessage) -> None:
        letters.append(message.raw_message)

    subscribe_projection(settings, broker, handler, dead_letters, ServiceMetrics("inventory"))
    async with TestKafkaBroker(broker):
        yield Wired(broker, settings, applied, letters, fail_on)


def cloud_event(event_type: str, data: dict[str, Any], event_id: str | None = None, subject: str = "dep-1") -> bytes:
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": event_id or str(uuid.uuid4()),
            "type": event_type,
            "source": "upstream/serving",
            "subject": subject,
            "time": "2026-11-20T10:00:00Z",
            "data": data,
        }
    )


def creation(deployment_id: str = "dep-1") -> dict[str, Any]:
    return {
        "deployment_id": deployment_id,
        "label": "Churn scorer",
        "created_by": "alice",
        "model_package": {"id": "pkg-1", "name": "gbm", "target_name": "churn", "target_type": "Binary"},
        "prediction_environment": {"id": "env-1", "name": "prod", "platform": "aws"},
    }


async def test_a_valid_event_reaches_the_handler_as_a_typed_message(wired: Wired) -> None:
    await wired.send(wired.settings.topics.deployment_events, cloud_event("DeploymentCreated", creation(), "evt-1"))

    assert [(item.envelope.id, type(item.message)) for item in wired.applied] == [("evt-1", ev.DeploymentCreated)]
    assert wired.applied[0].recorded.subject == "dep-1"
    assert wired.letters == []


async def test_monitoring_events_reach_the_same_handler(wired: Wired) -> None:
    data = {"deployment_id": "dep-1", "count": 3, "predicted_at": "2026-11-20T10:00:00Z"}
    await wired.send(wired.settings.topics.monitoring_events, cloud_event("PredictionsRecorded", data))

    assert [type(item.message) for item in wired.applied] == [ev.PredictionsRecorded]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (b"\x00\xffnot json", "not-json"),
        (orjson.dumps({"no": "specversion"}), "not-a-cloudevent"),
        (cloud_event("DeploymentTeleported", {"deployment_id": "dep-1"}), "unknown-type"),
        (cloud_event("DeploymentCreated", creation() | {"importance": "EXTREME"}), "schema-violation"),
    ],
)
async def test_a_bad_record_is_dead_lettered_with_its_code_and_original_bytes(
    wired: Wired, value: bytes, code: str
) -> None:
    await wired.send(wired.settings.topics.deployment_events, value, key=b"dep-9")

    assert wired.applied == []
    assert wired.codes() == [code]
    letter = wired.letters[0]
    assert (letter.value, letter.key) == (value, b"dep-9")
    headers = dict(letter.headers)
    assert headers[Header.SOURCE_TOPIC].decode() == wired.settings.topics.deployment_events
    assert headers[Header.SERVICE] == b"inventory"


async def test_a_record_the_handler_cannot_apply_is_dead_lettered_and_its_batch_applied(wired: Wired) -> None:
    wired.fail_on.add("evt-bad")
    topic = wired.settings.topics.deployment_events
    await wired.broker.publish_batch(
        cloud_event("DeploymentCreated", creation("dep-1"), "evt-good-1", subject="dep-1"),
        cloud_event("DeploymentCreated", creation("dep-2"), "evt-bad", subject="dep-2"),
        cloud_event("DeploymentCreated", creation("dep-3"), "evt-good-2", subject="dep-3"),
        topic=topic,
    )

    assert [item.envelope.id for item in wired.applied] == ["evt-good-1", "evt-good-2"]
    assert wired.codes() == ["handler-error"]
    assert b"cannot apply" in dict(wired.letters[0].headers)[Header.REASON]
