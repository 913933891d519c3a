"""The inventory projection in MongoDB: one document per deployment, plus its read queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from services.inventory.adapters.query import Caller, ListQuery, visible_to
from services.inventory.domain.evolve import evolve
from services.inventory.domain.state import HEALTH_DIMENSIONS, DeploymentView
from shared.messaging.consumer import Inbound
from shared.storage.mongo import Document, ensure_indexes
from shared.storage.projection import ProjectionStore

COLLECTION = "deployments"
_INDEXES = [
    IndexModel([("created", ASCENDING), ("status", ASCENDING), ("label_sort", ASCENDING)]),
    IndexModel([("owners", ASCENDING)]),
    IndexModel([("users", ASCENDING)]),
    IndexModel([("predictions.last_at", DESCENDING)]),
    IndexModel([("created_at", DESCENDING)]),
    *(IndexModel([(f"health.{d}.rank", ASCENDING)]) for d in HEALTH_DIMENSIONS),
]


class InventoryStore:
    def __init__(self, db: AsyncDatabase[Document], collection: str = COLLECTION) -> None:
        self.collection = db[collection]
        self.projection: ProjectionStore[DeploymentView] = ProjectionStore(self.collection, DeploymentView)

    async def create_indexes(self) -> None:
        await ensure_indexes(self.collection, _INDEXES)
        await self.projection.prepare()

    async def prune_dedupe_ledger(self, older_than: datetime) -> int:
        return await self.projection.prune(older_than)

    async def apply(self, batch: Sequence[Inbound]) -> int:
        return await self.projection.apply(batch, evolve)

    async def get(self, deployment_id: str) -> DeploymentView | None:
        return await self.projection.get(deployment_id)

    async def page(self, query: ListQuery) -> tuple[int, list[DeploymentView]]:
        total = await self.collection.count_documents(query.filter)
        cursor = self.collection.find(query.filter, projection={"_applied": False, "model_history": False})
        cursor = cursor.sort(query.sort).skip(query.offset).limit(query.limit)
        return total, [DeploymentView.model_validate(document) async for document in cursor]

    async def summary(self, caller: Caller) -> tuple[list[dict[str, Any]], int]:
        """Counts per (status, health of each dimension) and the predictions total, over what
        `caller` may see.

        Only $group with $sum, which both MongoDB and FerretDB support; FerretDB v1 computes just the
        first accumulator of a $group, so the two sums are two small aggregations."""
        visible = {"$match": visible_to(caller)}
        group_key = {"status": "$status", **{d: f"$health.{d}.status" for d in HEALTH_DIMENSIONS}}
        counts = [visible, {"$group": {"_id": group_key, "count": {"$sum": 1}}}]
        predictions = [visible, {"$group": {"_id": None, "total": {"$sum": "$predictions.total"}}}]
        rows = [row async for row in await self.collection.aggregate(counts)]
        totals = [row async for row in await self.collection.aggregate(predictions)]
        return rows, int(totals[0]["total"]) if totals else 0
