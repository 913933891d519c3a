"""MongoDB access through PyMongo's AsyncMongoClient (the same code runs on MongoDB and FerretDB)."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient

Document = dict[str, Any]


def mongo_client(url: str) -> AsyncMongoClient[Document]:
    # tz_aware: every datetime in the project is UTC-aware; naive ones would compare wrongly.
    return AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=10_000, appname="lifecycle")


async def ping(client: AsyncMongoClient[Document]) -> None:
    await client.admin.command("ping")
