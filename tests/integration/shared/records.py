"""Raw records as a foreign producer would write them, and readers of what the consumer path wrote."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from aiokafka.partitioner import murmur2

from shared.contract.topology import Topics
from shared.messaging.reader import read_all

PARTITIONS = 3  # tests.fixtures.infra.isolated


def structured(
    event_type: str, subject: str, data: dict[str, Any], event_id: str | None = None, time: str = "2026-11-20T10:00:00Z"
) -> bytes:
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": event_id or str(uuid.uuid4()),
            "type": event_type,
            "source": "upstream/serving",
            "subject": subject,
            "time": time,
            "datacontenttype": "application/json",
            "data": data,
        }
    )


def creation(deployment_id: str) -> dict[str, Any]:
    return {
        "deployment_id": deployment_id,
        "label": "Churn scorer",
        "created_by": "alice",
        "model_package": {"id": "pkg-1", "name": "gbm", "target_name": "churn", "target_type": "Binary"},
        "prediction_environment": {"id": "env-1", "name": "prod", "platform": "aws"},
    }


def murmur2_partition(key: str, partitions: int = PARTITIONS) -> int:
    """Where the Java client and aiokafka put `key` (computed here, not with the code under test)."""
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def keys_on_one_partition(prefix: str, count: int) -> list[str]:
    """`count` keys that murmur2 puts on the same partition, so their records share it."""
    keys = [f"{prefix}-{n}" for n in range(count * PARTITIONS * 4)]
    first = murmur2_partition(keys[0])
    same = [key for key in keys if murmur2_partition(key) == first]
    assert len(same) >= count
    return same[:count]


async def dead_letters(bootstrap: str, namespace: str) -> list[Any]:
    """Every record of the dead-letter topic so far."""
    return [record async for record in read_all(bootstrap, [Topics(namespace).dead_letters])]


def header(record: Any, name: str) -> str:
    return str(dict(record.headers)[name].decode())
