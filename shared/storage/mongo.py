"""MongoDB access through PyMongo's AsyncMongoClient (the same code runs on MongoDB and FerretDB;
what differs between them is decided in shared.storage.backend)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection

Document = dict[str, Any]


def mongo_client(url: str) -> AsyncMongoClient[Document]:
    # tz_aware: every datetime in the project is UTC-aware; naive ones would compare wrongly.
    return AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=10_000, appname="lifecycle")


async def ping(client: AsyncMongoClient[Document]) -> None:
    await client.admin.command("ping")


async def ensure_indexes(collection: AsyncCollection[Document], indexes: Sequence[IndexModel]) -> None:
    """Create the indexes that do not exist yet, as the backend decides (see shared.storage.backend)."""
    from shared.storage.backend import backend_of  # the backend module builds on this one

    backend = await backend_of(collection.database.client)
    await backend.ensure_indexes(collection, indexes)
