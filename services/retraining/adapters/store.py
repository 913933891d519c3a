"""The retraining service's database: one document per deployment (state + outbox), and command statuses.

Besides what every command side stores (shared.storage.aggregates), a deployment's document carries
`wake_at`, a top-level date: the earliest moment the scheduler loop has a command to send for it
(`domain.due.wake_at`), written in the same guarded write as the state, null when nothing is due until
an event arrives. The loop's query is `wake_at <= now`: a range, which FerretDB v1 evaluates in Go over
the whole collection (a scan per tick, hence a tick of seconds; an index on MongoDB). The state itself
is stored in JSON mode (see `_document`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from services.retraining.domain.due import wake_at
from services.retraining.domain.rules import Rules
from services.retraining.domain.state import RetrainingState
from shared.storage.aggregates import Aggregate, AggregateStore, CommandStatuses
from shared.storage.backend import backend_of
from shared.storage.mongo import Document

DEPLOYMENTS = "deployments"
COMMANDS = "commands"
WAKE_AT = "wake_at"


class RetrainingDocuments(AggregateStore[RetrainingState]):
    """The deployments' documents, with `wake_at` written in the same guarded write as the state."""

    def __init__(
        self,
        collection: AsyncCollection[Document],
        rules: Rules,
        initial: Callable[[str], RetrainingState] = RetrainingState.initial,
    ) -> None:
        super().__init__(collection, RetrainingState, initial)
        self.rules = rules

    def _document(self, aggregate: Aggregate[RetrainingState]) -> Document:
        document = super()._document(aggregate)
        # JSON mode: a trigger's minimum interval is a timedelta, which BSON cannot hold (an ISO 8601
        # duration in JSON); times become RFC 3339 strings, which the state reads back as they were.
        document["state"] = aggregate.state.model_dump(mode="json")
        document[WAKE_AT] = wake_at(aggregate.state, self.rules)
        return document

    async def due(self, now: datetime) -> AsyncIterator[RetrainingState]:
        """The state of every deployment with work due at `now` (read, not locked: the handler decides on
        the deployment as it is when a command reaches it)."""
        cursor = self.collection.find({WAKE_AT: {"$lte": now}}, {"state": 1})
        async for document in cursor:
            yield self.state_type.model_validate(document["state"])

    async def due_state(self, deployment_id: str) -> RetrainingState | None:
        """One deployment's state if its work is due at all (a point read by `_id`)."""
        document = await self.collection.find_one({"_id": deployment_id}, {"state": 1, WAKE_AT: 1})
        if document is None or document.get(WAKE_AT) is None:
            return None
        return self.state_type.model_validate(document["state"])


class RetrainingStore:
    def __init__(self, db: AsyncDatabase[Document], rules: Rules) -> None:
        self.deployments = RetrainingDocuments(db[DEPLOYMENTS], rules)
        self.statuses = CommandStatuses(db[COMMANDS])

    async def create_indexes(self) -> None:
        await self.statuses.create_indexes()
        backend = await backend_of(self.deployments.collection.database.client)
        await backend.ensure_indexes(self.deployments.collection, [IndexModel([(WAKE_AT, ASCENDING)])])

    async def prune_statuses(self, older_than: datetime) -> int:
        return await self.statuses.prune(older_than)
