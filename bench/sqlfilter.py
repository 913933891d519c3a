"""MongoDB read commands (find, aggregate, count) as SQL over a `(id text, doc jsonb)` table.

Covers what the inventory's reads use: equality, `$in`/`$nin`/`$ne`, ranges, `$exists`, `$regex`,
`$and`/`$or`/`$nor`, dotted paths (into arrays too, by containment), sort, skip, limit, top-level
projections, `$group` with `$sum`/`$count`, and `$count`. Anything else raises Untranslatable, and the
floor of that query is reported as missing rather than guessed.
Equality is `doc @> {"a": {"b": value}}`, wrapped in an array where the sample document holds one, so
one GIN index serves every filter; a sort is `doc #> '{a,b}'`, matched by a btree expression index.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from psycopg import sql

from bench.capture import Captured
from bench.data import json_text
from shared.storage.mongo import Document

_SEGMENT = re.compile(r"^[A-Za-z0-9_]+$")
_RANGES = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


class Untranslatable(ValueError):
    """A command this module cannot express in SQL."""


@dataclasses.dataclass(frozen=True)
class Statement:
    query: sql.Composed


@dataclasses.dataclass
class _Select:
    """One SELECT producing (id, doc) rows, widened into a subquery when a stage cannot merge."""

    source: sql.Composable
    where: list[sql.Composable] = dataclasses.field(default_factory=list)
    order: sql.Composable | None = None
    offset: int = 0
    limit: int | None = None
    columns: sql.Composable = dataclasses.field(default_factory=lambda: sql.SQL("id, doc"))
    group_by: sql.Composable | None = None
    grouped: bool = False

    def composed(self) -> sql.Composed:
        parts: list[sql.Composable] = [sql.SQL("SELECT "), self.columns, sql.SQL(" FROM "), self.source]
        if self.where:
            parts += [sql.SQL(" WHERE "), sql.SQL(" AND ").join(self.where)]
        if self.group_by is not None:
            parts += [sql.SQL(" GROUP BY "), self.group_by]
        if self.grouped:
            parts.append(sql.SQL(" HAVING count(*) > 0"))
        if self.order is not None:
            parts += [sql.SQL(" ORDER BY "), self.order]
        if self.offset:
            parts.append(sql.SQL(" OFFSET {}").format(sql.Literal(self.offset)))
        if self.limit is not None:
            parts.append(sql.SQL(" LIMIT {}").format(sql.Literal(self.limit)))
        return sql.Composed(parts)

    def wrapped(self) -> _Select:
        return _Select(source=sql.SQL("({}) AS s").format(self.composed()))


class _Translator:
    def __init__(self, sample: Document) -> None:
        self.sample = sample

    def value(self, value: Any, cast: str = "jsonb") -> sql.Composable:
        # Inlined as literals, not parameters: the planner then always sees the values (as a custom plan).
        return sql.SQL("{}::" + cast).format(sql.Literal(json_text(value) if cast == "jsonb" else value))

    def condition(self, filter_: Document) -> sql.Composable:
        clauses: list[sql.Composable] = []
        for key, spec in filter_.items():
            if key in ("$and", "$or", "$nor"):
                parts = [self.condition(part) for part in spec]
                joined = sql.SQL("(") + sql.SQL(" AND " if key == "$and" else " OR ").join(parts) + sql.SQL(")")
                clauses.append(sql.SQL("NOT ") + joined if key == "$nor" else joined)
            elif key.startswith("$"):
                raise Untranslatable(f"top-level {key}")
            elif isinstance(spec, dict) and spec and all(k.startswith("$") for k in spec):
                clauses += [self.operator(key, op, argument, spec) for op, argument in spec.items() if op != "$options"]
            else:
                clauses.append(self.equals(key, spec))
        return sql.SQL("(") + sql.SQL(" AND ").join(clauses or [sql.SQL("true")]) + sql.SQL(")")

    def equals(self, key: str, value: Any) -> sql.Composable:
        if key == "_id":
            return sql.SQL("id = ") + self.value(id_text(value), "text")
        if value is None:  # MongoDB: null or missing
            return sql.SQL("({p} IS NULL OR {p} = 'null'::jsonb)").format(p=json_path(key))
        return sql.SQL("doc @> ") + self.value(_nest(key.split("."), value, self.sample))

    def operator(self, key: str, op: str, argument: Any, spec: Document) -> sql.Composable:
        if op == "$eq":
            return self.equals(key, argument)
        if op in ("$ne", "$nin"):
            return sql.SQL("NOT ") + self.operator(key, "$eq" if op == "$ne" else "$in", argument, spec)
        if op == "$in":
            if key == "_id":
                return sql.SQL("id = ANY(") + self.value([id_text(item) for item in argument], "text[]") + sql.SQL(")")
            ors = [self.equals(key, item) for item in argument] or [sql.SQL("false")]
            return sql.SQL("(") + sql.SQL(" OR ").join(ors) + sql.SQL(")")
        target = sql.SQL("id") if key == "_id" else json_path(key)
        if op in _RANGES:
            value = self.value(id_text(argument), "text") if key == "_id" else self.value(argument)
            return sql.SQL("{} {} ").format(target, sql.SQL(_RANGES[op])) + value
        if op == "$exists":
            return sql.SQL("{} IS {}NULL").format(target, sql.SQL("NOT " if argument else ""))
        if op == "$regex":
            matcher = "~*" if "i" in spec.get("$options", "") else "~"
            return sql.SQL("{} #>> '{{}}' {} ").format(target, sql.SQL(matcher)) + self.value(argument, "text")
        raise Untranslatable(f"operator {op} on {key}")

    def group(self, spec: Document) -> tuple[sql.Composable, sql.Composable | None]:
        """(the jsonb object built per group, the GROUP BY key or None for one group over everything)."""
        key = spec.get("_id")
        if isinstance(key, str) and key.startswith("$"):
            key_sql: sql.Composable | None = json_path(key[1:])
        elif isinstance(key, dict):
            fields = [sql.SQL("{}, {}").format(sql.Literal(k), _field_ref(v)) for k, v in key.items()]
            key_sql = sql.SQL("jsonb_build_object(") + sql.SQL(", ").join(fields) + sql.SQL(")")
        else:
            key_sql = None
        fields = [sql.SQL("'_id', ") + (key_sql or self.value(key))]
        for name, accumulator in spec.items():
            if name != "_id":
                fields.append(sql.SQL("{}, ").format(sql.Literal(name)) + _accumulate(accumulator))
        return sql.SQL("jsonb_build_object(") + sql.SQL(", ").join(fields) + sql.SQL(")"), key_sql


def translate(command: Captured, sample: Document) -> Statement:
    translator = _Translator(sample)
    select = _Select(source=sql.Identifier(command.collection))
    body = command.body
    if command.name == "find":
        stages: list[Document] = [{"$match": body.get("filter") or {}}]
        if body.get("sort"):
            stages.append({"$sort": body["sort"]})
        if body.get("skip"):
            stages.append({"$skip": body["skip"]})
        if body.get("limit"):
            stages.append({"$limit": abs(body["limit"])})
        if body.get("projection"):
            stages.append({"$project": body["projection"]})
    elif command.name == "aggregate":
        stages = list(body["pipeline"])
    elif command.name == "count":
        stages = [{"$match": body.get("query") or {}}, {"$count": "n"}]
    else:
        raise Untranslatable(f"command {command.name}")
    for stage in stages:
        select = _stage(select, stage, translator)
    return Statement(sql.SQL("SELECT doc FROM ({}) AS q").format(select.composed()))


def _stage(select: _Select, stage: Document, translator: _Translator) -> _Select:
    (name, spec), *rest = stage.items()
    if rest:
        raise Untranslatable(f"stage with several keys: {list(stage)}")
    if select.grouped or (name in ("$match", "$sort", "$group", "$count") and (select.limit or select.offset)):
        select = select.wrapped()
    if name == "$match":
        select.where.append(translator.condition(spec))
    elif name == "$sort":
        select.order = _order(spec)
    elif name == "$skip":
        select = select.wrapped() if select.limit is not None else select
        select.offset += int(spec)
    elif name == "$limit":
        select.limit = int(spec) if select.limit is None else min(select.limit, int(spec))
    elif name in ("$group", "$count"):
        built: sql.Composable
        key: sql.Composable | None = None
        if name == "$count":
            built = sql.SQL("jsonb_build_object({}, count(*))").format(sql.Literal(spec))
        else:
            built, key = translator.group(spec)
        select.columns = sql.SQL("NULL::text AS id, ") + built + sql.SQL(" AS doc")
        select.group_by, select.grouped = key, True
    elif name == "$project":
        select.columns = sql.SQL("id, ") + _projection(spec) + sql.SQL(" AS doc")
    else:
        raise Untranslatable(f"stage {name}")
    return select


def order_index(command: Captured) -> sql.Composed | None:
    """The btree index expression that serves the command's sort, if it sorts."""
    spec = command.body.get("sort") if command.name == "find" else None
    if command.name == "aggregate":
        spec = next((stage["$sort"] for stage in command.body["pipeline"] if "$sort" in stage), None)
    return _order(spec) if spec else None


def _order(spec: Document) -> sql.Composed:
    # MongoDB puts missing and null first in ascending order; PostgreSQL puts NULL last by default.
    keys = [
        sql.SQL("{} {}").format(
            sql.SQL("id") if key == "_id" else sql.SQL("({})").format(json_path(key)),
            sql.SQL("ASC NULLS FIRST" if direction == 1 else "DESC NULLS LAST"),
        )
        for key, direction in spec.items()
    ]
    return sql.SQL(", ").join(keys)


def _projection(spec: Document) -> sql.Composable:
    if all(not value for key, value in spec.items() if key != "_id"):
        removed = [sql.SQL(" #- {}").format(_path_literal(key)) for key in spec if key != "_id"]
        return sql.Composed([sql.SQL("doc"), *removed])
    if any("." in key for key in spec):
        raise Untranslatable("inclusion projection of a dotted path")
    kept = [key for key, value in spec.items() if value] + ([] if spec.get("_id", 1) == 0 else ["_id"])
    fields = [sql.SQL("{k}, doc -> {k}").format(k=sql.Literal(key)) for key in dict.fromkeys(kept)]
    return sql.SQL("jsonb_strip_nulls(jsonb_build_object(") + sql.SQL(", ").join(fields) + sql.SQL("))")


def _accumulate(accumulator: Any) -> sql.Composable:
    if accumulator == {"$count": {}} or accumulator == {"$sum": 1}:
        return sql.SQL("count(*)")
    argument = accumulator.get("$sum") if isinstance(accumulator, dict) else None
    if isinstance(argument, str) and argument.startswith("$"):
        path = json_path(argument[1:])
        # $sum ignores what is not a number.
        return sql.SQL("coalesce(sum(CASE WHEN jsonb_typeof({p}) = 'number' THEN ({p})::text::numeric END), 0)").format(
            p=path
        )
    raise Untranslatable(f"accumulator {accumulator}")


def _field_ref(value: Any) -> sql.Composable:
    if isinstance(value, str) and value.startswith("$"):
        return json_path(value[1:])
    raise Untranslatable(f"group key {value!r}")


def id_text(value: Any) -> str:
    """The `id` column of a document `_id`: itself if a string, else its JSON."""
    return value if isinstance(value, str) else json_text(value)


def _segments(key: str) -> list[str]:
    segments = key.split(".")
    if not all(_SEGMENT.match(segment) for segment in segments):
        raise Untranslatable(f"field path {key!r}")
    return segments


def _path_literal(key: str) -> sql.Literal:
    return sql.Literal("{" + ",".join(_segments(key)) + "}")


def json_path(key: str) -> sql.Composed:
    """`doc #> '{a,b}'`, written literally so that expression indexes match it."""
    return sql.SQL("doc #> {}").format(_path_literal(key))


def _nest(path: list[str], value: Any, sample: Any) -> Any:
    """{"a": {"b": value}}; where the sample holds an array, the containment goes through it."""
    key, rest = path[0], path[1:]
    child = sample.get(key) if isinstance(sample, dict) else None
    if isinstance(child, list):
        element = child[0] if child else None
        inner = _nest(rest, value, element) if rest else value
        return {key: inner if isinstance(inner, list) else [inner]}
    return {key: _nest(rest, value, child) if rest else value}
