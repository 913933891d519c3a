"""A service's batched consumer, built the one way every service builds it."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from shared.contract.messages import MessageRegistry
from shared.messaging.consumer import BatchConsumer, BatchHandler
from shared.messaging.dead_letters import DeadLetters
from shared.service.metrics import ServiceMetrics
from shared.service.settings import ServiceSettings


def subscribe(
    settings: ServiceSettings,
    broker: KafkaBroker,
    topics: Sequence[str],
    *,
    registry: MessageRegistry,
    handler: BatchHandler,
    dead_letters: DeadLetters,
    metrics: ServiceMetrics,
    group_id: str | None = None,
) -> BatchConsumer:
    """A consumer of `topics` into `handler`, in the service's consumer group (or `group_id`, for a
    second consumer of its own that must keep its own offsets)."""
    consumer = BatchConsumer(
        service=settings.service_name,
        group_id=group_id or settings.group_id,
        registry=registry,
        handler=handler,
        dead_letters=dead_letters,
        metrics=metrics,
        settings=settings.consumer,
    )
    consumer.subscribe(broker, topics)
    return consumer
