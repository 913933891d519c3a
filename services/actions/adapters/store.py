"""The actions service's database: one document per deployment (state + outbox), and command statuses."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from services.actions.domain.state import DeploymentState
from shared.storage.aggregates import AggregateStore, CommandStatuses
from shared.storage.mongo import Document

DEPLOYMENTS = "deployments"
COMMANDS = "commands"


class ActionsStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.deployments: AggregateStore[DeploymentState] = AggregateStore(
            db[DEPLOYMENTS], DeploymentState, DeploymentState.initial
        )
        self.statuses = CommandStatuses(db[COMMANDS])

    async def create_indexes(self) -> None:
        await self.statuses.create_indexes()

    async def prune_statuses(self, older_than: datetime) -> int:
        return await self.statuses.prune(older_than)
