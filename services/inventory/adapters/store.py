"""The inventory projection in MongoDB: one document per deployment, its summary counters, and the
read queries.

The summary is a maintained read model (shared.storage.counters): counter documents written in the
same batch as the deployments, read by `_id`, never an aggregation over the collection.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from services.inventory.adapters.query import ListQuery
from services.inventory.domain.access import Caller
from services.inventory.domain.evolve import evolve
from services.inventory.domain.state import HEALTH_DIMENSIONS, DeploymentView
from services.inventory.domain.summary import Tiles, contribution
from shared.messaging.consumer import Inbound
from shared.storage.counters import Counters
from shared.storage.layout import unpacked
from shared.storage.mongo import Document, ensure_indexes
from shared.storage.projection import ProjectionStore

COLLECTION = "deployments"
_BY_LABEL = [("label_sort", ASCENDING), ("_id", ASCENDING)]
"""The default sort; `_id` breaks ties (services.inventory.adapters.query)."""
_INDEXES = [
    # The default page. An admin's: listed deployments by label (status, an $in, is read from the keys).
    IndexModel([("created", ASCENDING), *_BY_LABEL, ("status", ASCENDING)], name="listed_by_label"),
    # Everyone else's: an $or over the two seeing roles, one index scan each, merged in label order.
    IndexModel([("owners", ASCENDING), ("created", ASCENDING), *_BY_LABEL], name="owners_by_label"),
    IndexModel([("users", ASCENDING), ("created", ASCENDING), *_BY_LABEL], name="users_by_label"),
    # The common filters (what the summary tiles open), each in the default order.
    IndexModel([("status", ASCENDING), ("created", ASCENDING), *_BY_LABEL], name="status_by_label"),
    *(
        IndexModel([(f"health.{d}.status", ASCENDING), ("created", ASCENDING), *_BY_LABEL], name=f"{d}_health_by_label")
        for d in HEALTH_DIMENSIONS
    ),
    # Time ranges.
    IndexModel([("predictions.last_at", DESCENDING)]),
    IndexModel([("created_at", DESCENDING)]),
]
QUERIED = (
    "created",
    "status",
    "label",
    "label_sort",
    "description",
    "importance",
    "importance_rank",
    "created_at",
    "created_by",
    "owners",
    "users",
    "consumers",
    "tag_terms",
    "prediction_environment.platform",
    "model_package.target_type",
    "predictions.total",
    "predictions.last_at",
    *(f"health.{d}.{part}" for d in HEALTH_DIMENSIONS for part in ("status", "rank")),
)
"""The paths the list's filters and sorts (services.inventory.adapters.query) and the indexes read;
copied next to the packed state (shared.storage.layout)."""
_NOT_IN_PAGES = {"_applied": False, "_counted": False, "_counting": False}


class InventoryStore:
    def __init__(self, db: AsyncDatabase[Document], collection: str = COLLECTION) -> None:
        self.collection = db[collection]
        self.counters = Counters(db[f"{collection}_summary"])
        self.projection: ProjectionStore[DeploymentView] = ProjectionStore(
            self.collection, DeploymentView, counters=self.counters, contribute=contribution, queried=QUERIED
        )

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
        cursor = self.collection.find(query.filter, projection=_NOT_IN_PAGES)
        cursor = cursor.sort(query.sort).skip(query.offset).limit(query.limit)
        return total, [unpacked(DeploymentView, document) async for document in cursor]

    async def summary(self, caller: Caller) -> Tiles:
        """The tiles over what `caller` may see, from the maintained counters: one point read for
        an admin; for others one per principal, then one per audience they belong to."""
        return Tiles(await self.counters.read(None if caller.admin else caller.principals))
