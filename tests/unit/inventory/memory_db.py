"""An in-memory stand-in for the few PyMongo async calls the storage layer makes, for unit tests that
crash between writes or interleave writers at will.

Each call is atomic and yields to the event loop first, so concurrent writers interleave between
calls as they would on a server. A replacement that does not raise `_rev` by one fails, as on
MongoDB's filter or FerretDB with the PostgreSQL trigger (shared.storage.ferretdb_postgres). `fail`
lets a test raise before a chosen call.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

from pymongo import InsertOne, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, OperationFailure

from shared.storage.ferretdb_postgres import CONFLICT_MESSAGE

Document = dict[str, Any]
DUPLICATE_KEY = 11000


class Crash(RuntimeError):
    """The simulated process dies here."""


class Result:
    def __init__(self, inserted: int = 0, matched: int = 0, upserted: int = 0) -> None:
        self.inserted_count = inserted
        self.matched_count = matched
        self.upserted_count = upserted


class Cursor:
    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents

    def __aiter__(self) -> AsyncIterator[Document]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Document]:
        for document in self.documents:
            yield document

    async def to_list(self, _: int | None = None) -> list[Document]:
        return list(self.documents)


class MemoryCollection:
    def __init__(self, database: MemoryDatabase, name: str) -> None:
        self.database = database
        self.name = name
        self.documents: dict[Any, Document] = {}

    async def _call(self, operation: str) -> None:
        await asyncio.sleep(0)
        self.database.client.calls.append((self.name, operation))
        if self.database.client.fail is not None:
            self.database.client.fail(self.name, operation)

    async def find_one(self, filter: Document, projection: Document | None = None) -> Document | None:
        await self._call("find_one")
        found = self.documents.get(filter["_id"])
        return copy.deepcopy(found) if found is not None and _matches(found, filter) else None

    def find(self, filter: Document | None = None, projection: Document | None = None) -> Cursor:
        ids = (filter or {}).get("_id", {}).get("$in") if filter else None
        chosen = [self.documents[i] for i in ids if i in self.documents] if ids is not None else self.documents.values()
        return Cursor([copy.deepcopy(document) for document in chosen])

    async def insert_one(self, document: Document) -> Result:
        return await self.insert_many([document])

    async def replace_one(self, filter: Document, document: Document) -> Result:
        return await self.bulk_write([ReplaceOne(filter, document)])

    async def delete_one(self, filter: Document) -> Result:
        await self._call("delete_one")
        self.documents.pop(filter["_id"], None)
        return Result()

    async def insert_many(self, documents: Iterable[Document], ordered: bool = True) -> Result:
        await self._call("insert_many")
        errors, inserted = [], 0
        for index, document in enumerate(documents):
            if document["_id"] in self.documents:
                errors.append({"index": index, "code": DUPLICATE_KEY, "errmsg": "duplicate key"})
            else:
                self.documents[document["_id"]] = copy.deepcopy(document)
                inserted += 1
        if errors:
            raise BulkWriteError({"writeErrors": errors, "nInserted": inserted, "nMatched": 0})
        return Result(inserted=inserted)

    async def bulk_write(self, operations: Sequence[Any], ordered: bool = True) -> Result:
        await self._call("bulk_write")
        errors, inserted, matched, upserted = [], 0, 0, 0
        for index, operation in enumerate(operations):
            if isinstance(operation, InsertOne):
                document = operation._doc
                if document["_id"] in self.documents:
                    errors.append({"index": index, "code": DUPLICATE_KEY, "errmsg": "duplicate key"})
                    continue
                self.documents[document["_id"]] = copy.deepcopy(document)
                inserted += 1
            elif isinstance(operation, ReplaceOne):
                filter: Document = dict(operation._filter)
                current = self.documents.get(filter["_id"])
                if current is not None and _matches(current, filter):
                    replacement = dict(operation._doc)
                    if "_rev" in current and replacement.get("_rev", current["_rev"] + 1) != current["_rev"] + 1:
                        raise OperationFailure(f"{CONFLICT_MESSAGE}: _id {current['_id']}")
                    self.documents[current["_id"]] = copy.deepcopy(replacement)
                    matched += 1
            elif isinstance(operation, UpdateOne):
                update: Document = dict(operation._doc)  # type: ignore[arg-type]
                key = operation._filter["_id"]
                current = self.documents.get(key)
                if current is None:
                    if not operation._upsert:
                        continue
                    current = self.documents[key] = {"_id": key}
                    upserted += 1
                else:
                    matched += 1
                for field, spec in update["$addToSet"].items():
                    values = current.setdefault(field, [])
                    values.extend(value for value in spec["$each"] if value not in values)
            else:
                raise NotImplementedError(type(operation).__name__)
        if errors:
            raise BulkWriteError({"writeErrors": errors, "nInserted": inserted, "nMatched": matched})
        return Result(inserted=inserted, matched=matched, upserted=upserted)

    async def list_indexes(self) -> Cursor:
        return Cursor([{"name": "_id_"}])

    async def create_indexes(self, indexes: Sequence[Any]) -> None:
        return None

    async def delete_many(self, filter: Document) -> Result:
        return Result()


class MemoryDatabase:
    def __init__(self, client: MemoryClient, name: str) -> None:
        self.client = client
        self.name = name
        self.collections: dict[str, MemoryCollection] = {}

    def __getitem__(self, name: str) -> MemoryCollection:
        return self.collections.setdefault(name, MemoryCollection(self, name))


class MemoryAdmin:
    def __init__(self, ferretdb: bool) -> None:
        self.ferretdb = ferretdb

    async def command(self, name: str) -> Document:
        assert name == "buildInfo"
        return {"version": "7.0.0", **({"ferretdbVersion": "memory"} if self.ferretdb else {})}


class MemoryClient:
    """`fail(collection, operation)` may raise (e.g. Crash) before any call reaches the data."""

    def __init__(self, ferretdb: bool = True) -> None:
        self.admin = MemoryAdmin(ferretdb)
        self.databases: dict[str, MemoryDatabase] = {}
        self.fail: Callable[[str, str], None] | None = None
        self.calls: list[tuple[str, str]] = []

    def __getitem__(self, name: str) -> MemoryDatabase:
        return self.databases.setdefault(name, MemoryDatabase(self, name))


def _matches(document: Document, filter: Document) -> bool:
    return all(document.get(key) == value for key, value in filter.items())
