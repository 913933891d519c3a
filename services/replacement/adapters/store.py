"""The replacement service's database: one document per deployment (state + outbox, the kit's
command side), command statuses, and the package catalog (one document per model package).

The catalog is a projection of the registry stream (`ModelPackageRegistered`, keyed by package), kept
by the shared ProjectionStore: each registration is applied once (event-id ledger and offsets) under
a revision guard, and `evolve_package` keeps the latest registration whatever the arrival order. The
command handler reads the few entries a decision needs by `_id` (point reads on FerretDB).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from pymongo.asynchronous.database import AsyncDatabase

from services.replacement.domain.packages import Packages, PackageSpec, evolve_package
from services.replacement.domain.state import ReplacementState
from shared.contract.events.model import ModelPackageRegistered
from shared.domain.recorded import Recorded
from shared.messaging.consumer import Inbound
from shared.storage.aggregates import AggregateStore, CommandStatuses
from shared.storage.backend import backend_of
from shared.storage.layout import unpacked
from shared.storage.mongo import Document
from shared.storage.projection import ProjectionStore

DEPLOYMENTS = "deployments"
COMMANDS = "commands"
PACKAGES = "packages"


def _evolve(current: PackageSpec | None, event: Recorded[Any]) -> PackageSpec:
    return evolve_package(current, cast(Recorded[ModelPackageRegistered], event))


class PackageCatalog:
    """Registered model packages by id: folded from the registry stream, read by id."""

    def __init__(self, db: AsyncDatabase[Document], collection: str = PACKAGES) -> None:
        self.projection = ProjectionStore(db[collection], PackageSpec)

    async def prepare(self) -> None:
        await self.projection.prepare()

    async def apply(self, batch: Sequence[Inbound]) -> int:
        """Fold the batch's registrations (anything else on the registry stream is not the catalog's)."""
        registrations = [inbound for inbound in batch if isinstance(inbound.message, ModelPackageRegistered)]
        return await self.projection.apply(registrations, _evolve) if registrations else 0

    async def release(self, batch: Sequence[Inbound]) -> None:
        await self.projection.release(batch)

    async def packages(self, ids: Iterable[str]) -> Packages:
        """The catalog entries among `ids` (those never registered are simply absent)."""
        collection = self.projection.collection
        backend = await backend_of(collection.database.client)
        found = await backend.find_by_ids(collection, ids)
        return Packages.of(unpacked(PackageSpec, document) for document in found.values())

    async def prune(self, older_than: datetime) -> int:
        return await self.projection.prune(older_than)


class ReplacementStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.deployments = AggregateStore(db[DEPLOYMENTS], ReplacementState, ReplacementState.initial)
        self.statuses = CommandStatuses(db[COMMANDS])
        self.catalog = PackageCatalog(db)

    async def create_indexes(self) -> None:
        await self.statuses.create_indexes()
        await self.catalog.prepare()
