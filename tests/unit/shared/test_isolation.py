"""Failure isolation without a broker: which errors are transient, how retries back off, and how a
batch is narrowed down to the records that fail on their own."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError, NotLeaderForPartitionError
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure, ServerSelectionTimeoutError

from shared.messaging.isolation import Retrier, is_transient, isolate
from shared.storage.projection import StaleProjection


@pytest.mark.parametrize(
    "error",
    [
        AutoReconnect("gone"),
        ServerSelectionTimeoutError("no server"),
        KafkaConnectionError("refused"),
        NotLeaderForPartitionError(),
        TimeoutError(),
        ConnectionResetError(),
        StaleProjection("changed underneath"),
        OperationFailure("write conflict", details={"errorLabels": ["TransientTransactionError"]}),
    ],
)
def test_unreachable_timeouts_and_races_are_transient(error: Exception) -> None:
    assert is_transient(error)
    wrapped = RuntimeError("while applying")
    wrapped.__cause__ = error
    assert is_transient(wrapped)


@pytest.mark.parametrize(
    "error",
    [
        TypeError("can't compare offset-naive and offset-aware datetimes"),
        ValueError("bad"),
        KeyError("nModified"),
        OverflowError("MongoDB can only handle up to 8-byte ints"),
        DuplicateKeyError("dup"),
        MessageSizeTooLargeError(),
    ],
)
def test_everything_else_is_deterministic(error: Exception) -> None:
    assert not is_transient(error)


def test_backoff_doubles_up_to_its_cap() -> None:
    retrier = Retrier(0.5, 3.0)
    assert [retrier.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


class Recorder:
    """A handler that fails on some items, deterministically or for its first few calls."""

    def __init__(self, poison: frozenset[int] = frozenset(), transient_calls: int = 0) -> None:
        self.poison = poison
        self.transient_calls = transient_calls
        self.calls: list[list[int]] = []
        self.applied: list[int] = []

    async def __call__(self, batch: Sequence[int]) -> None:
        self.calls.append(list(batch))
        if self.transient_calls:
            self.transient_calls -= 1
            raise AutoReconnect("database away")
        bad = self.poison & set(batch)
        if bad:
            raise ValueError(f"cannot apply {sorted(bad)}")
        self.applied += batch


async def test_a_healthy_batch_is_applied_in_one_call() -> None:
    handler = Recorder()
    assert await isolate(handler, list(range(10)), Retrier(0, 0)) == []
    assert handler.calls == [list(range(10))]


async def test_poison_records_are_found_and_everything_else_applied_in_order() -> None:
    handler = Recorder(poison=frozenset({3, 17}))
    batch = list(range(32))
    failures = await isolate(handler, batch, Retrier(0, 0))
    assert [(f.item, str(f.error)) for f in failures] == [(3, "cannot apply [3]"), (17, "cannot apply [17]")]
    assert handler.applied == [n for n in batch if n not in {3, 17}]  # left before right: order kept
    assert len(handler.calls) < 32  # bisecting, not one by one


async def test_transient_failures_are_retried_in_place_and_reported() -> None:
    seen: list[int] = []
    successes: list[None] = []
    retrier = Retrier(
        0, 0, on_transient=lambda _, attempts: seen.append(attempts), on_success=lambda: successes.append(None)
    )
    handler = Recorder(transient_calls=3)
    assert await isolate(handler, [1, 2, 3], retrier) == []
    assert handler.calls == [[1, 2, 3]] * 4
    assert seen == [1, 2, 3]
    assert handler.applied == [1, 2, 3]
    assert successes == [None]


async def test_a_transient_failure_while_isolating_is_retried_not_dead_lettered() -> None:
    handler = Recorder(poison=frozenset({1}))
    calls = 0

    async def flaky(batch: Sequence[int]) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:  # during isolation, on the half without the poison
            raise AutoReconnect("blip")
        await handler(batch)

    failures = await isolate(flaky, [0, 1, 2, 3], Retrier(0, 0))
    assert [f.item for f in failures] == [1]
    assert sorted(handler.applied) == [0, 2, 3]


async def test_a_tool_gives_up_after_its_attempts() -> None:
    handler = Recorder(transient_calls=10)
    with pytest.raises(AutoReconnect):
        await isolate(handler, [1], Retrier(0, 0, give_up_after=3))
    assert len(handler.calls) == 3
