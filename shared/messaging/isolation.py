"""Failure isolation: one bad record never stalls the others, a passing outage never loses one.

A handler error is either transient (the database or the broker unreachable, a timeout, a write that
raced another writer): the same call may succeed later, so it is retried in place with capped
exponential backoff and nothing is given up. Or it is deterministic (the record itself cannot be
applied): the batch is bisected, left half first so each partition's records keep their order, until
the records that fail on their own are found; every other record is applied.

Handlers are idempotent and may be re-invoked on any subset of a batch, so re-applying the half
that succeeded before its sibling failed is harmless.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError, RequestTimedOutError
from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError, WTimeoutError

from shared.storage.revisions import StaleProjection

T = TypeVar("T")

_TRANSIENT: tuple[type[BaseException], ...] = (
    ConnectionFailure,  # also AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError, NotPrimaryError
    ExecutionTimeout,
    WTimeoutError,
    KafkaConnectionError,
    KafkaTimeoutError,
    RequestTimedOutError,
    asyncio.TimeoutError,
    OSError,
    StaleProjection,  # another writer got there first: re-read and retry
)
_TRANSIENT_LABELS = ("RetryableWriteError", "TransientTransactionError")


def is_transient(error: BaseException) -> bool:
    """Whether the same call may succeed later; a wrapped error counts by its cause."""
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, _TRANSIENT):
            return True
        if isinstance(current, KafkaError) and current.retriable:
            return True
        if isinstance(current, PyMongoError) and any(map(current.has_error_label, _TRANSIENT_LABELS)):
            return True
        current = current.__cause__
    return False


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


@dataclasses.dataclass(frozen=True, slots=True)
class Failure(Generic[T]):
    """An item the handler fails on by itself, deterministically."""

    item: T
    error: BaseException


class Retrier:
    """Runs a call until it succeeds or fails deterministically, waiting between transient failures.

    `on_transient(error, attempts)` is told of each transient failure, `on_success()` of each success
    (readiness and metrics hang on them). `give_up_after` bounds the attempts for tools that must
    finish; a live consumer retries for as long as it takes."""

    def __init__(
        self,
        backoff_s: float,
        backoff_max_s: float,
        *,
        on_transient: Callable[[BaseException, int], None] | None = None,
        on_success: Callable[[], None] | None = None,
        give_up_after: int | None = None,
    ) -> None:
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.on_transient = on_transient
        self.on_success = on_success
        self.give_up_after = give_up_after

    def delay(self, attempts: int) -> float:
        return float(min(self.backoff_max_s, self.backoff_s * 2 ** (attempts - 1)))

    async def run(self, call: Callable[[], Awaitable[object]]) -> None:
        attempts = 0
        while True:
            try:
                await call()
            except Exception as error:
                if not is_transient(error):
                    raise
                attempts += 1
                if self.on_transient:
                    self.on_transient(error, attempts)
                if self.give_up_after is not None and attempts >= self.give_up_after:
                    raise
                await asyncio.sleep(self.delay(attempts))
            else:
                if self.on_success:
                    self.on_success()
                return


async def isolate(
    handler: Callable[[Sequence[T]], Awaitable[object]],
    batch: Sequence[T],
    retrier: Retrier,
    on_error: Callable[[BaseException, int], None] | None = None,
) -> list[Failure[T]]:
    """Apply `batch`, retrying transient failures; returns the items that fail deterministically on
    their own (every other item has been applied). `on_error(error, size)` hears of each
    deterministic failure of a sub-batch of `size` items."""
    if not batch:
        return []
    try:
        await retrier.run(lambda: handler(batch))
    except Exception as error:
        if is_transient(error):
            raise  # the retrier gave up: the caller decides
        if on_error:
            on_error(error, len(batch))
        if len(batch) == 1:
            return [Failure(batch[0], error)]
        middle = len(batch) // 2
        left = await isolate(handler, batch[:middle], retrier, on_error)
        return left + await isolate(handler, batch[middle:], retrier, on_error)
    return []
