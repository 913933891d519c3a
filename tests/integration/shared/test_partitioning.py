"""Records that a producer with another partitioner put on the wrong partition, or sent without a
key, are still applied, and are counted and logged with their source."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from shared.contract import events as ev
from shared.contract.envelope import to_structured, wrap
from shared.contract.topology import Topics
from tests.fixtures.inventory import RunningService
from tests.integration.shared.records import PARTITIONS, murmur2_partition
from tests.support import Publisher, at, created, until_applied

RUNS = 20


async def test_create_then_deactivate_on_wrong_partitions_and_without_keys_always_ends_inactive(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    assert publisher.producer is not None
    topic = Topics(namespace).deployment_events
    fleet = [f"routed-{n}" for n in range(RUNS)]
    sends = []
    with capture_logs() as logs:
        for deployment in fleet:
            right = murmur2_partition(deployment)
            creation = wrap(created(deployment), source="kcat", time=at(0))
            deactivation = wrap(ev.DeploymentDeactivated(deployment_id=deployment), source="kcat", time=at(5))
            for envelope, key, partition in (
                # What a librdkafka producer (crc32 partitioner) may do: another partition than murmur2's.
                (creation, deployment.encode(), (right + 1) % PARTITIONS),
                # A CloudEvent sent with no key at all, anywhere.
                (deactivation, None, (right + 2) % PARTITIONS),
            ):
                value, headers = to_structured(envelope)
                sends.append(await publisher.producer.send(topic, value, key=key, partition=partition, headers=headers))
        await asyncio.gather(*sends)

        await until_applied(inventory.app, 2 * RUNS)

    metrics = inventory.app.state.runtime.metrics.registry
    misrouted = {
        reason: metrics.get_sample_value("lifecycle_records_misrouted_total", {"reason": reason, "topic": topic})
        for reason in ("wrong-partition", "no-key")
    }
    assert misrouted == {"wrong-partition": RUNS, "no-key": RUNS}
    warnings = [entry for entry in logs if entry["log_level"] == "warning" and entry.get("reason") == "wrong-partition"]
    assert len(warnings) == RUNS
    assert {(w["topic"], w["ce_source"]) for w in warnings} == {(topic, "kcat")}
    assert all(isinstance(w["partition"], int) and isinstance(w["offset"], int) and w["key"] for w in warnings)
    # Needs order-independent folding: the deactivation may well be read before the creation.
    response = await inventory.get("/deployments", limit=100)
    assert {d["id"]: d["status"] for d in response.json()["data"]} == dict.fromkeys(fleet, "inactive")
