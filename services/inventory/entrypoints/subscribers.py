"""The batch subscriber that feeds the inventory projection."""

from __future__ import annotations

from collections.abc import Sequence

from services.inventory.adapters.store import InventoryStore
from shared.messaging.consumer import Inbound
from shared.service.logging import get_logger
from shared.service.metrics import ServiceMetrics

log = get_logger(__name__)


class ProjectionHandler:
    """Applies each batch of valid events to the projection in one read and one bulk write."""

    def __init__(self, store: InventoryStore, metrics: ServiceMetrics) -> None:
        self.store = store
        self.metrics = metrics

    async def __call__(self, batch: Sequence[Inbound]) -> None:
        applied = await self.store.apply(batch)
        skipped = len(batch) - applied
        if skipped:
            self.metrics.events_skipped.inc(skipped)
            log.info("redelivered events skipped", skipped=skipped)

    async def release(self, batch: Sequence[Inbound]) -> None:
        await self.store.projection.release(batch)
