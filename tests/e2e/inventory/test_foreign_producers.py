"""Upstream systems we did not write: the CloudEvents SDK over librdkafka (confluent-kafka), whose
default partitioner hashes keys with CRC32 where Java and aiokafka use murmur2, and events sent
with no key at all. One deployment's events then land on different partitions and arrive in any
order; the inventory must still end in the state the event times say, and count what it saw."""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

from aiokafka.partitioner import murmur2
from cloudevents.v1.http import CloudEvent
from cloudevents.v1.kafka import to_binary, to_structured
from confluent_kafka import Producer

from shared.contract import events as ev
from shared.contract.messages import Message
from shared.contract.topology import Topics
from tests.fixtures.inventory import RunningService
from tests.infra import Infra
from tests.support import Publisher, at, created, eventually

PARTITIONS = 3  # tests.fixtures.infra.isolated


def cloud_event(message: Message, minutes: float, *, with_key: bool = True) -> CloudEvent:
    attributes = {
        "type": message.type_name,
        "source": "upstream/serving-platform",
        "subject": message.subject,
        "time": at(minutes).isoformat(),
        "datacontenttype": "application/json",
        "dataschema": message.schema_id(),
    }
    if with_key:
        attributes["partitionkey"] = message.subject
    return CloudEvent(attributes, message.model_dump(mode="json"))


def produce_with_librdkafka(bootstrap: str, topic: str, messages: list[tuple[CloudEvent, bool]]) -> None:
    """Binary mode for keyed events, structured mode for the unkeyed ones; librdkafka's own partitioner."""
    producer = Producer({"bootstrap.servers": bootstrap})
    for event, binary in messages:
        kafka_message = to_binary(event) if binary else to_structured(event)
        headers: list[tuple[str, str | bytes | None]] = list(kafka_message.headers.items())
        producer.produce(topic, value=kafka_message.value, key=kafka_message.key, headers=headers)
    assert producer.flush(30) == 0


def misrouted(app: Any) -> float:
    total = 0.0
    for metric in app.state.runtime.metrics.registry.collect():
        if metric.name.startswith("lifecycle_records_misrouted"):
            total += sum(sample.value for sample in metric.samples if sample.name.endswith("_total"))
    return total


async def test_events_from_another_partitioner_or_without_a_key_still_fold_by_event_time(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    keyed = [f"crc-{n}" for n in range(20)]
    unkeyed = [f"nokey-{n}" for n in range(5)]
    # Created through librdkafka (CRC32 partitioner, or no key), deactivated through murmur2.
    upstream = [(cloud_event(created(d), 0), True) for d in keyed]
    upstream += [(cloud_event(created(d), 0, with_key=False), False) for d in unkeyed]
    topic = Topics(namespace).deployment_events
    await asyncio.to_thread(produce_with_librdkafka, infra.kafka, topic, upstream)
    await publisher.emit_many(namespace, [(ev.DeploymentDeactivated(deployment_id=d), at(5)) for d in keyed + unkeyed])

    async def all_inactive() -> None:
        for deployment in keyed + unkeyed:
            response = await inventory.get(f"/deployments/{deployment}")
            assert response.status_code == 200, deployment
            assert response.json()["status"] == "inactive", deployment

    await eventually(all_inactive, within=60)
    crc_differs = [d for d in keyed if zlib.crc32(d.encode()) % PARTITIONS != murmur2(d.encode()) % PARTITIONS]
    assert crc_differs, "the keys should include some that the two partitioners place differently"
    assert misrouted(inventory.app) >= len(crc_differs) + len(unkeyed)


async def test_a_deactivation_that_overtakes_its_creation_is_not_lost(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    """The deactivation (later event time) is read first; the creation arrives after it."""
    fleet = [f"late-create-{n}" for n in range(5)]
    await publisher.emit_many(namespace, [(ev.DeploymentDeactivated(deployment_id=d), at(5)) for d in fleet])
    topic = Topics(namespace).deployment_events
    await asyncio.to_thread(
        produce_with_librdkafka, infra.kafka, topic, [(cloud_event(created(d), 0), True) for d in fleet]
    )

    async def all_inactive() -> None:
        for deployment in fleet:
            response = await inventory.get(f"/deployments/{deployment}")
            assert response.status_code == 200, deployment
            assert response.json()["status"] == "inactive", deployment

    await eventually(all_inactive, within=60)
