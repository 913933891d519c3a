"""Rebuilds a projection from the log: every record of the topics, through the live apply code.

It isolates failures as the live consumer does (shared.messaging.isolation): a record that cannot be
decoded or that the handler fails on by itself is skipped and reported, never dead-lettered (the
live consumer did that already), and the replay goes on to the end. Transient failures are retried
a bounded number of times, then end the replay with their error: a tool must finish.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime

from shared.contract.messages import MessageRegistry
from shared.messaging.consumer import BatchHandler, DeadLetter, Inbound, decode
from shared.messaging.dead_letters import Record
from shared.messaging.isolation import Retrier, describe, isolate
from shared.messaging.reader import read_batches

_SHOWN = 10


@dataclasses.dataclass(frozen=True, slots=True)
class Skipped:
    """A record left out, where it is in the log and why."""

    topic: str
    partition: int
    offset: int
    code: str
    reason: str

    @classmethod
    def of(cls, record: Record, code: str, reason: str) -> Skipped:
        return cls(record.topic, record.partition, record.offset, code, reason)

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset} {self.code}: {self.reason}"


def summarize(skipped: Sequence[Skipped]) -> str:
    """`K: first few…` for a one-line report."""
    if not skipped:
        return "0"
    shown = "; ".join(map(str, skipped[:_SHOWN]))
    more = f"; and {len(skipped) - _SHOWN} more" if len(skipped) > _SHOWN else ""
    return f"{len(skipped)}: {shown}{more}"


@dataclasses.dataclass
class ReplayStats:
    records: int = 0
    applied: int = 0
    skipped: list[Skipped] = dataclasses.field(default_factory=list)

    @property
    def invalid(self) -> int:
        return len(self.skipped)

    def summary(self) -> str:
        return f"replayed {self.applied}, skipped {summarize(self.skipped)}"


async def replay(
    bootstrap_servers: str,
    topics: Sequence[str],
    handler: BatchHandler,
    registry: MessageRegistry,
    *,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    retrier: Retrier | None = None,
    since: datetime | None = None,
    sized: Callable[[int], None] | None = None,
) -> ReplayStats:
    """`since`: from each partition's first record of that time on, else from the beginning; `sized` is
    told how many records there are to read (for a progress bar), `progress` how many each batch read."""
    retrier = retrier or Retrier(0.5, 5.0, give_up_after=8)
    stats = ReplayStats()
    async for records in read_batches(bootstrap_servers, topics, batch_size, since=since, sized=sized):
        valid: list[Inbound] = []
        raw: dict[int, Record] = {}
        for record in records:
            item = decode(record, registry)
            if isinstance(item, DeadLetter):
                stats.skipped.append(Skipped.of(record, item.error.code, item.error.reason))
            else:
                valid.append(item)
                raw[id(item)] = record
        failures = await isolate(handler, valid, retrier)
        stats.skipped += [Skipped.of(raw[id(f.item)], "handler-error", describe(f.error)) for f in failures]
        stats.records += len(records)
        stats.applied += len(valid) - len(failures)
        if progress:
            progress(len(records))
    return stats
