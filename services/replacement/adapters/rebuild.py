"""What the replacement service keeps from the log, for `lifecycle replay replacement`
(shared.storage.rebuild): each deployment's state, folded from the events of the deployment topic by
the pure `evolve` (shared.storage.refold; no command is decided again), and the package catalog, the
projection of the registry topic, rebuilt through its live apply code."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.replacement.adapters.store import DEPLOYMENTS, PACKAGES, PackageCatalog
from services.replacement.domain.decider import replacements
from services.replacement.domain.packages import PackageSpec
from services.replacement.domain.state import ReplacementState
from services.replacement.entrypoints.subscribers import replacement_registry
from services.replacement.settings import ReplacementSettings
from shared.storage.aggregates import AggregateStore
from shared.storage.layout import unpacked
from shared.storage.mongo import Document
from shared.storage.rebuild import Rebuild, Sink, Target
from shared.storage.refold import AggregateRefold


class _Catalog:
    def __init__(self, catalog: PackageCatalog) -> None:
        self.catalog = catalog

    async def apply(self, batch: Any) -> object:
        return await self.catalog.apply(batch)

    async def finish(self) -> None:
        """Everything is written batch by batch."""


def _state(document: Document) -> Any:
    # The state only: outbox, command outcomes, `_rev` and `_applied` are bookkeeping (refold carries them).
    return ReplacementState.model_validate(document["state"]).model_dump(mode="json")


def _package(document: Document) -> Any:
    # The registration only: `_rev` and `_applied` depend on which delivery came first.
    return unpacked(PackageSpec, document).model_dump(mode="json")


def rebuild(settings: ReplacementSettings) -> Rebuild:
    service = settings.service_name

    async def open_deployments(db: AsyncDatabase[Document], name: str) -> Sink:
        store = AggregateStore(db[name], ReplacementState, ReplacementState.initial)
        return AggregateRefold(store, replacements, service, db[DEPLOYMENTS])

    async def open_catalog(db: AsyncDatabase[Document], name: str) -> Sink:
        catalog = PackageCatalog(db, name)
        await catalog.prepare()
        return _Catalog(catalog)

    deployments = Target(DEPLOYMENTS, (settings.topics.deployment_events,), open_deployments, _state)
    catalog = Target(
        PACKAGES, (settings.topics.registry_events,), open_catalog, _package, companions=("_applied_events",)
    )
    return Rebuild(
        service,
        settings.mongo.url,
        settings.mongo.database,
        settings.kafka.bootstrap_servers,
        replacement_registry(),
        (deployments, catalog),
    )
