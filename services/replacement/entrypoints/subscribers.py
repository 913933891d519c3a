"""The replacement service's two consumers:

- the command handler: its command topic, and the deployment topic that keeps each deployment's state
  current (creation, status, importance, sharing; change-request reviews from the actions service);
- the package catalog: the registry topic (`ModelPackageRegistered`, keyed by package), in its own
  consumer group, since its records are about packages, not deployments.
"""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from services.replacement.adapters.store import PackageCatalog
from services.replacement.domain.decider import COMMANDS
from services.replacement.domain.evolve import FOLDED
from services.replacement.settings import ReplacementSettings
from shared.contract.catalog import ALL_COMMANDS, ALL_EVENTS, build_registry
from shared.contract.events import CommandRejected, ModelPackageRegistered
from shared.contract.messages import MessageRegistry
from shared.contract.topology import Stream
from shared.messaging.consumer import BatchConsumer, BatchHandler, Inbound
from shared.messaging.dead_letters import DeadLetters
from shared.service.logging import get_logger
from shared.service.metrics import ServiceMetrics
from shared.service.subscribers import subscribe

log = get_logger(__name__)


def replacement_registry() -> MessageRegistry:
    """Every event and command, since its topics may carry any; fails at start, naming it, if a type
    it decides, folds, catalogs or publishes (CommandRejected) is missing."""
    return build_registry(
        *ALL_EVENTS,
        *ALL_COMMANDS,
        required=[*COMMANDS, *FOLDED, ModelPackageRegistered, CommandRejected],
        consumer="replacement",
    )


class CatalogHandler:
    """Folds each batch of registrations into the package catalog (one read, one bulk write)."""

    def __init__(self, catalog: PackageCatalog, metrics: ServiceMetrics) -> None:
        self.catalog = catalog
        self.metrics = metrics

    async def __call__(self, batch: Sequence[Inbound]) -> None:
        applied = await self.catalog.apply(batch)
        skipped = sum(isinstance(i.message, ModelPackageRegistered) for i in batch) - applied
        if skipped:
            self.metrics.events_skipped.inc(skipped)
            log.info("redelivered registrations skipped", skipped=skipped)

    async def release(self, batch: Sequence[Inbound]) -> None:
        await self.catalog.release(batch)


def subscribe_commands(
    settings: ReplacementSettings,
    broker: KafkaBroker,
    handler: BatchHandler,
    dead_letters: DeadLetters,
    metrics: ServiceMetrics,
) -> BatchConsumer:
    topics = [settings.topics.for_stream(Stream.REPLACEMENT_COMMANDS), settings.topics.deployment_events]
    return subscribe(
        settings,
        broker,
        topics,
        registry=replacement_registry(),
        handler=handler,
        dead_letters=dead_letters,
        metrics=metrics,
    )


def subscribe_catalog(
    settings: ReplacementSettings,
    broker: KafkaBroker,
    handler: CatalogHandler,
    dead_letters: DeadLetters,
    metrics: ServiceMetrics,
) -> BatchConsumer:
    return subscribe(
        settings,
        broker,
        [settings.topics.registry_events],
        registry=replacement_registry(),
        handler=handler,
        dead_letters=dead_letters,
        metrics=metrics,
        group_id=settings.catalog_group_id,
    )
