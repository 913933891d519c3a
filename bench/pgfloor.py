"""The floor: PostgreSQL itself, through psycopg, holding the same documents as jsonb.

One table per collection the queries touch (`id text primary key, doc jsonb`), a GIN `jsonb_path_ops`
index on `doc` for every equality and `$in` (as `@>` containment, which also matches inside arrays, as
MongoDB does), and a btree expression index for each sort the queries use. The captured MongoDB
commands are translated to SQL (bench.sqlfilter) and run with the same concurrency the store used.
The benchmark creates its own database there and drops it at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bench.capture import REPLAY_CONCURRENCY, Captured, in_groups
from bench.data import json_text
from bench.sqlfilter import Statement, Untranslatable, id_text, order_index, translate
from shared.storage.mongo import Document

_CONNECTIONS = REPLAY_CONCURRENCY  # a group of concurrent commands runs as concurrently as the store ran it


class PgFloor:
    def __init__(self, admin: psycopg.AsyncConnection[Any], conninfo: str, database: str) -> None:
        self.admin = admin
        self.conninfo = conninfo
        self.database = database
        self.connections: list[psycopg.AsyncConnection[Any]] = []
        self.tables: set[str] = set()
        self.version = ""

    @classmethod
    async def open(cls, url: str, database: str) -> PgFloor:
        admin = await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=5)
        floor = cls(admin, make_conninfo(url, dbname=database), database)
        row = await (await admin.execute("SHOW server_version")).fetchone()
        floor.version = str(row[0]) if row else "?"
        await admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        for _ in range(_CONNECTIONS):
            floor.connections.append(await psycopg.AsyncConnection.connect(floor.conninfo, autocommit=True))
        return floor

    @property
    def where(self) -> str:
        info = conninfo_to_dict(self.conninfo)
        return f"PostgreSQL {self.version} at {info.get('host')}:{info.get('port', 5432)}, database {self.database}"

    async def close(self) -> None:
        for connection in self.connections:
            await connection.close()
        with contextlib.suppress(psycopg.Error):
            await self.admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.database))
            )
        await self.admin.close()

    async def ensure_table(self, table: str) -> None:
        if table in self.tables:
            return
        name = sql.Identifier(table)
        connection = self.connections[0]
        await connection.execute(sql.SQL("CREATE TABLE {} (id text PRIMARY KEY, doc jsonb NOT NULL)").format(name))
        await connection.execute(sql.SQL("CREATE INDEX ON {} USING gin (doc jsonb_path_ops)").format(name))
        self.tables.add(table)

    async def copy(self, table: str, rows: Iterable[tuple[str, str]]) -> None:
        """Bulk load (id, JSON text) rows."""
        await self.ensure_table(table)
        async with self.connections[0].cursor() as cursor:
            statement = sql.SQL("COPY {} (id, doc) FROM STDIN").format(sql.Identifier(table))
            async with cursor.copy(statement) as copy:
                for row in rows:
                    await copy.write_row(row)

    async def replace(self, table: str, documents: Sequence[Document]) -> None:
        """Make the table hold exactly these documents (small collections: the summary counters)."""
        await self.ensure_table(table)
        await self.connections[0].execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
        await self.copy(table, [(id_text(d["_id"]), json_text(d)) for d in documents])

    async def upsert(self, table: str, documents: Sequence[Document]) -> None:
        """Keep the floor's copy equal to what the ingest phase changed."""
        await self.ensure_table(table)
        statement = sql.SQL(
            "INSERT INTO {} (id, doc) VALUES (%s, %s::jsonb) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc"
        ).format(sql.Identifier(table))
        async with self.connections[0].cursor() as cursor:
            await cursor.executemany(statement, [(id_text(d["_id"]), json_text(d)) for d in documents])

    async def prepare(self, commands: Sequence[Captured], sample: Document) -> list[Statement]:
        """Translate the commands (raises Untranslatable), creating the expression indexes their sorts need."""
        statements = [translate(command, sample) for command in commands]
        for command in commands:
            if command.collection not in self.tables:
                raise Untranslatable(f"collection {command.collection} is not mirrored in PostgreSQL")
            index = order_index(command)
            if index is not None:
                name = "sort_" + re.sub(r"[^a-z0-9]+", "_", index.as_string().lower()).strip("_")[:50]
                await self.connections[0].execute(
                    sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                        sql.Identifier(name), sql.Identifier(command.collection), index
                    )
                )
        return statements

    async def analyze(self) -> None:
        await self.connections[0].execute("ANALYZE")

    async def run(self, commands: Sequence[Captured], statements: Sequence[Statement]) -> list[list[Any]]:
        """The statements, each group's concurrently (one connection each); one row list per command."""
        by_command = dict(zip((id(c) for c in commands), statements, strict=True))
        results: list[list[Any]] = []
        for group in in_groups(commands):
            results += await self._concurrently([by_command[id(command)] for command in group])
        return results

    async def _concurrently(self, statements: list[Statement]) -> list[list[Any]]:
        todo = iter(enumerate(statements))
        rows: list[list[Any]] = [[] for _ in statements]

        async def work(connection: psycopg.AsyncConnection[Any]) -> None:
            for index, statement in todo:
                rows[index] = await _fetch(connection, statement)

        await asyncio.gather(*(work(connection) for connection in self.connections[: len(statements)]))
        return rows

    async def explain(self, statement: Statement) -> str:
        cursor = await self.connections[0].execute(sql.SQL("EXPLAIN ") + statement.query)
        return " | ".join(str(row[0]).strip() for row in await cursor.fetchall())


async def _fetch(connection: psycopg.AsyncConnection[Any], statement: Statement) -> list[Any]:
    cursor = await connection.execute(statement.query)
    return [row[0] for row in await cursor.fetchall()]
