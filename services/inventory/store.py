"""The inventory projection in MongoDB: one document per deployment, plus its read queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from services.inventory.domain import evolve
from services.inventory.query import Caller, ListQuery, visible_to
from services.inventory.state import HEALTH_DIMENSIONS, DeploymentView
from shared.kafka.consumer import Inbound
from shared.mongo import Document
from shared.projection import ProjectionStore

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
        # FerretDB v1 drops the connection when asked to create an index that already exists,
        # so only the missing ones are sent (MongoDB would accept either).
        existing = {index["name"] async for index in await self.collection.list_indexes()}
        missing = [index for index in _INDEXES if index.document["name"] not in existing]
        if missing:
            await self.collection.create_indexes(missing)

    async def apply(self, batch: Sequence[Inbound]) -> int:
        return await self.projection.apply(batch, evolve)

    async def get(self, deployment_id: str) -> DeploymentView | None:
        return await self.projection.get(deployment_id)

    async def page(self, query: ListQuery) -> tuple[int, list[DeploymentView]]:
        total = await self.collection.count_documents(query.filter)
        cursor = self.collection.find(query.filter, projection={"_applied": False, "model_history": False})
        cursor = cursor.sort(query.sort).skip(query.offset).limit(query.limit)
        return total, [DeploymentView.model_validate(document) async for document in cursor]

    async def summary(self, caller: Caller) -> list[dict[str, Any]]:
        """Counts per (status, health of each dimension), and predictions, over what `caller` may see.

        One $group with $sum only, which both MongoDB and FerretDB support; the tiles are folded
        from these rows by the caller."""
        group_key = {"status": "$status", **{d: f"$health.{d}.status" for d in HEALTH_DIMENSIONS}}
        pipeline: list[dict[str, Any]] = [
            {"$match": visible_to(caller)},
            {"$group": {"_id": group_key, "count": {"$sum": 1}, "predictions": {"$sum": "$predictions.total"}}},
        ]
        return [row async for row in await self.collection.aggregate(pipeline)]
