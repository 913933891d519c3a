"""Rebuilds a projection from the log: every record of the topics, through the live apply code.

Invalid records are counted and skipped (they are already in the dead-letter topic).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from shared.contract.messages import MessageRegistry
from shared.messaging.consumer import BatchHandler, Inbound, decode
from shared.messaging.reader import read_batches


@dataclasses.dataclass
class ReplayStats:
    records: int = 0
    applied: int = 0
    invalid: int = 0


async def replay(
    bootstrap_servers: str,
    topics: Sequence[str],
    handler: BatchHandler,
    registry: MessageRegistry,
    *,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> ReplayStats:
    stats = ReplayStats()
    async for records in read_batches(bootstrap_servers, topics, batch_size):
        decoded = [decode(record, registry) for record in records]
        valid = [item for item in decoded if isinstance(item, Inbound)]
        stats.records += len(records)
        stats.invalid += len(records) - len(valid)
        if valid:
            await handler(valid)
            stats.applied += len(valid)
        if progress:
            progress(len(records))
    return stats
