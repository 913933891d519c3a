"""The partition a key belongs on is murmur2's, as the Java client computes it."""

from __future__ import annotations

import pytest

from shared.messaging.partitioning import Misrouting, misrouting, partition_for


@pytest.mark.parametrize(
    ("key", "java_hash"),
    # From Apache Kafka's UtilsTest.testMurmur2 (signed 32-bit results of Utils.murmur2).
    [(b"21", -973932308), (b"foobar", -790332482), (b"a-little-bit-long-string", -985981536), (b"abc", 479470107)],
)
def test_partition_is_the_positive_murmur2_hash_modulo_the_partitions(key: bytes, java_hash: int) -> None:
    for partitions in (1, 3, 6, 7):
        assert partition_for(key, partitions) == (java_hash & 0x7FFFFFFF) % partitions


def test_records_are_checked_against_their_key() -> None:
    right = partition_for(b"dep-1", 6)
    assert misrouting(b"dep-1", right, 6) is None
    assert misrouting(b"dep-1", (right + 1) % 6, 6) is Misrouting.WRONG_PARTITION
    assert misrouting(None, right, 6) is Misrouting.NO_KEY
    assert misrouting(b"dep-1", (right + 1) % 6, None) is None  # partition count unknown: no claim
