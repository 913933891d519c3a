"""What the inventory keeps from the log, for `lifecycle replay inventory` (shared.storage.rebuild): the
deployments projection of the deployment and monitoring topics, with its summary counters and its
ledger of applied event ids, rebuilt through the live apply code (InventoryStore.apply)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.inventory.adapters.store import COLLECTION, InventoryStore
from services.inventory.bootstrap import inventory_registry
from services.inventory.domain.state import DeploymentView
from services.inventory.settings import InventorySettings
from shared.storage.counters import Counters
from shared.storage.layout import unpacked
from shared.storage.mongo import Document
from shared.storage.rebuild import Rebuild, Sink, Target


class _Sink:
    def __init__(self, store: InventoryStore) -> None:
        self.store = store

    async def apply(self, batch: Any) -> object:
        return await self.store.apply(batch)

    async def finish(self) -> None:
        """Everything is written batch by batch."""


async def _open(db: AsyncDatabase[Document], name: str) -> Sink:
    store = InventoryStore(db, name)
    await store.create_indexes()
    return _Sink(store)


def _comparable(document: Document) -> Any:
    # The state only: `_rev` counts writes, `_applied` the offsets of whichever delivery came first, and
    # `_counted` / `_counting` the counters' pending transitions; the queried copies derive from the state.
    return unpacked(DeploymentView, document).model_dump(mode="json")


async def _totals(db: AsyncDatabase[Document], name: str) -> Mapping[str, int]:
    """The admin's summary tiles (every deployment counted once)."""
    return await Counters(db[f"{name}_summary"]).read(None)


def rebuild(settings: InventorySettings) -> Rebuild:
    topics = (settings.topics.deployment_events, settings.topics.monitoring_events)
    deployments = Target(
        COLLECTION, topics, _open, _comparable, companions=("_summary", "_applied_events"), totals=_totals
    )
    return Rebuild(
        settings.service_name,
        settings.mongo.url,
        settings.mongo.database,
        settings.kafka.bootstrap_servers,
        inventory_registry(),
        (deployments,),
    )
