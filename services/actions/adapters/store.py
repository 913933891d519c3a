"""The actions service's database: one document per deployment (state + outbox), and command statuses.

Besides what every command side stores (shared.storage.aggregates), a deployment's document carries
`reviews_open`, a top-level boolean saying whether any of its change requests is open: the expiry
sweeper's query is that one scalar equality, which FerretDB hands to its storage instead of fetching
the whole collection into Go (still a scan there without an index, hence a rare sweep; an index on
MongoDB).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import TypeAdapter
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from services.actions.domain.state import ChangeRequest, DeploymentState
from shared.storage.aggregates import Aggregate, AggregateStore, CommandStatuses
from shared.storage.backend import backend_of
from shared.storage.mongo import Document

DEPLOYMENTS = "deployments"
COMMANDS = "commands"
REVIEWS_OPEN = "reviews_open"
_CHANGE_REQUESTS = TypeAdapter(tuple[ChangeRequest, ...])


class DeploymentDocuments(AggregateStore[DeploymentState]):
    """The deployments' documents, with the `reviews_open` flag written in the same guarded write."""

    def _document(self, aggregate: Aggregate[DeploymentState]) -> Document:
        document = super()._document(aggregate)
        document[REVIEWS_OPEN] = bool(aggregate.state.open_change_requests)
        return document

    async def open_change_requests(self) -> list[tuple[str, Sequence[ChangeRequest]]]:
        """Every deployment with an open change request, and those requests (read, not locked: the
        command handler decides on the deployment as it is when the command reaches it)."""
        cursor = self.collection.find({REVIEWS_OPEN: True}, {"state.change_requests": 1})
        found: list[tuple[str, Sequence[ChangeRequest]]] = []
        async for document in cursor:
            requests = _CHANGE_REQUESTS.validate_python(document.get("state", {}).get("change_requests") or ())
            found.append((str(document["_id"]), [request for request in requests if request.is_open]))
        return found


class ActionsStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.deployments = DeploymentDocuments(db[DEPLOYMENTS], DeploymentState, DeploymentState.initial)
        self.statuses = CommandStatuses(db[COMMANDS])

    async def create_indexes(self) -> None:
        await self.statuses.create_indexes()
        backend = await backend_of(self.deployments.collection.database.client)
        await backend.ensure_indexes(self.deployments.collection, [IndexModel([(REVIEWS_OPEN, ASCENDING)])])

    async def prune_statuses(self, older_than: datetime) -> int:
        return await self.statuses.prune(older_than)
