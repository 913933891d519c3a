"""MongoDB access through PyMongo's AsyncMongoClient (the same code runs on MongoDB and FerretDB)."""

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
    """Create the indexes that do not exist yet.

    FerretDB v1 drops the connection when asked to create an index that already exists, so only the
    missing ones are sent (MongoDB would accept either)."""
    existing = {index["name"] async for index in await collection.list_indexes()}
    missing = [index for index in indexes if index.document["name"] not in existing]
    if missing:
        await collection.create_indexes(missing)


async def is_ferretdb(client: AsyncMongoClient[Document]) -> bool:
    """FerretDB answers buildInfo with its own version next to the MongoDB one it emulates."""
    info = await client.admin.command("buildInfo")
    return "ferretdbVersion" in info
