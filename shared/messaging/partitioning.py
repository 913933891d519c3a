"""Which partition a key belongs on, and whether a record read from a partition was put there by it.

Keys are deployment ids hashed with murmur2, the default partitioner of the Java client and of
aiokafka (librdkafka clients such as kcat or confluent-kafka must set `partitioner=murmur2_random`).
Consumers do not depend on it: folding is order-independent, so a misrouted record is still applied,
but it is counted and logged, because its producer is misconfigured and per-key order is lost.
"""

from __future__ import annotations

import enum

from aiokafka.partitioner import murmur2


class Misrouting(enum.StrEnum):
    WRONG_PARTITION = "wrong-partition"
    NO_KEY = "no-key"


def partition_for(key: bytes, partitions: int) -> int:
    """The partition murmur2 puts `key` on, as Kafka's Java client computes it (positive hash, modulo)."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


def misrouting(key: bytes | None, partition: int, partitions: int | None) -> Misrouting | None:
    """Why a record read from `partition` of a topic with `partitions` partitions is not where its key
    says, or None when it is (or when the partition count is not known)."""
    if key is None:
        return Misrouting.NO_KEY
    if partitions and partition_for(key, partitions) != partition:
        return Misrouting.WRONG_PARTITION
    return None
