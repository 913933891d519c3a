"""Turns the read API's query parameters into a database filter and sort, or a 400 with the reason.

Every value is parsed into an enum, a date, an integer or a plain string before it reaches the filter,
and strings are only ever used as values, never as keys: a search is escaped character by character
into a literal pattern (`search_pattern`), so any text can be searched and none becomes an operator.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from services.inventory.domain.access import LISTED_STATUSES, SEEING_ROLES, Caller
from services.inventory.domain.state import HEALTH_DIMENSIONS
from shared.contract.events.values import DeploymentStatus, HealthStatus, Importance, Platform, Role, TargetType

__all__ = ["LISTED_STATUSES", "BadQuery", "Caller", "ListQuery", "parse_list_query", "visible_to"]

MAX_LIMIT = 1000
MAX_OFFSET = 10_000_000
DEFAULT_LIMIT = 50
SORT_FIELDS = {
    "label": "label_sort",
    "service_health": "health.service.rank",
    "drift_health": "health.drift.rank",
    "accuracy_health": "health.accuracy.rank",
    "fairness_health": "health.fairness.rank",
    "predictions": "predictions.total",
    "last_prediction": "predictions.last_at",
    "created": "created_at",
    "importance": "importance_rank",
}
_INTEGER = re.compile(r"-?[0-9]+")
BLANKS = "\t\n\v\f\r \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000\ufeff"
"""What is trimmed around each value of a comma list: the whitespace of JSON Schema's (ECMA-262) `\\s`,
so that the documented pattern (`LIST_PATTERN`) and this parser agree on every input."""
_ITEM = "[^,]*[^," + "".join(f"\\u{ord(char):04x}" for char in BLANKS) + "][^,]*"
LIST_PATTERN = f"^{_ITEM}(,{_ITEM})*$"
"""A comma list as documented: every value holds something other than blanks."""
VALUE_PATTERN = f"^{_ITEM}$"
"""One value of a comma list, as documented: no comma, something other than blanks."""


class BadQuery(ValueError):
    """A query the API refuses; the message is returned to the caller."""


@dataclasses.dataclass(frozen=True)
class ListQuery:
    filter: dict[str, Any]
    sort: list[tuple[str, int]]
    offset: int
    limit: int


ROLE_FIELDS = {Role.OWNER: "owners", Role.USER: "users", Role.CONSUMER: "consumers"}
"""The stored array of principals holding each role (derived from `access` so it can be indexed)."""


def visible_to(caller: Caller, statuses: Sequence[DeploymentStatus] = LISTED_STATUSES) -> dict[str, Any]:
    """The database form of services.inventory.domain.access: `listed` with the default statuses,
    `readable` with READABLE_STATUSES."""
    existing: dict[str, Any] = {"created": True, "status": {"$in": [s.value for s in statuses]}}
    if caller.admin:
        return existing
    seen_by = [{ROLE_FIELDS[role]: {"$in": caller.principals}} for role in SEEING_ROLES]
    return {"$and": [existing, {"$or": seen_by}]}


def parse_list_query(params: Mapping[str, Sequence[str]], caller: Caller) -> ListQuery:
    unknown = sorted(set(params) - set(_FILTERS) - {"sort", "offset", "limit"})
    if unknown:
        raise BadQuery(f"unknown query parameter(s): {', '.join(unknown)}; allowed: {', '.join(_ALLOWED)}")
    clauses = [visible_to(caller)]
    for name, build in _FILTERS.items():
        if name in params:
            try:
                clauses.append(build(_values(name, params[name]), caller))
            except BadQuery as exc:
                message = str(exc)
                raise BadQuery(message if message.startswith(name) else f"{name}: {message}") from None
    return ListQuery(
        filter={"$and": clauses},
        sort=_sort(_single("sort", params.get("sort"), "label")),
        offset=_integer("offset", params.get("offset"), 0, 0, MAX_OFFSET),
        limit=_integer("limit", params.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT),
    )


def _values(name: str, raw: Sequence[str]) -> list[str]:
    values = [part.strip(BLANKS) for item in raw for part in item.split(",")]
    if not all(values):
        raise BadQuery(f"{name}: empty value")
    return values


def _single(name: str, raw: Sequence[str] | None, default: str) -> str:
    if not raw:
        return default
    if len(raw) > 1:
        raise BadQuery(f"{name}: give it once")
    return raw[0]


def _integer(name: str, raw: Sequence[str] | None, default: int, low: int, high: int) -> int:
    text = _single(name, raw, str(default))
    # ASCII digits only: int() would also take "1_000", " 7" and other scripts' digits.
    if not _INTEGER.fullmatch(text):
        raise BadQuery(f"{name}: {text!r} is not an integer")
    value = int(text)
    if not low <= value <= high:
        raise BadQuery(f"{name}: must be between {low} and {high}")
    return value


def _sort(text: str) -> list[tuple[str, int]]:
    direction = -1 if text.startswith("-") else 1
    key = text.removeprefix("-")
    if key not in SORT_FIELDS:
        raise BadQuery(f"sort: {text!r} is not one of {', '.join(SORT_FIELDS)} (prefix '-' for descending)")
    # _id breaks ties so that pages never overlap or skip.
    return [(SORT_FIELDS[key], direction), ("_id", 1)]


def _enum_in(field: str, enum: type[StrEnum], allowed: Sequence[StrEnum] | None = None) -> Callable[..., Any]:
    choices = list(allowed or enum)
    by_lower = {member.value.lower(): member for member in choices}

    def build(values: list[str], _: Caller) -> dict[str, Any]:
        members = []
        for value in values:
            member = by_lower.get(value.lower())
            if member is None:
                raise BadQuery(f"{value!r} is not one of {', '.join(m.value for m in choices)}")
            members.append(member.value)
        return {field: {"$in": members}}

    return build


def _strings_in(field: str) -> Callable[..., Any]:
    return lambda values, _: {field: {"$in": values}}


def search_pattern(text: str) -> str:
    """A regular expression matching `text` literally, in any engine the database may use (PCRE for
    MongoDB, Go's RE2 for FerretDB, Python's re): ASCII punctuation escaped with a backslash (literal in
    all), space and ASCII control characters as `\\xHH` (so no raw NUL or newline reaches the database),
    letters, digits and other characters as they are."""
    return "".join(_literal(char) for char in text)


def _literal(char: str) -> str:
    if not char.isascii() or char.isalnum() or char == "_":
        return char  # literal in every engine
    return f"\\{char}" if char.isprintable() and char != " " else f"\\x{ord(char):02x}"


def _search(values: list[str], _: Caller) -> dict[str, Any]:
    patterns = [{"$regex": search_pattern(text), "$options": "i"} for text in values]
    return {"$or": [{field: pattern} for pattern in patterns for field in ("label", "description")]}


def _role(values: list[str], caller: Caller) -> dict[str, Any]:
    fields = {role.value: ROLE_FIELDS[role] for role in SEEING_ROLES}
    chosen = []
    for value in values:
        if value.upper() not in fields:
            raise BadQuery(f"role: {value!r} is not one of {', '.join(fields)} (consumers do not see deployments)")
        chosen.append({fields[value.upper()]: {"$in": caller.principals}})
    return {"$or": chosen}


def _date_bound(field: str, operator: str) -> Callable[..., Any]:
    def build(values: list[str], _: Caller) -> dict[str, Any]:
        if len(values) != 1:
            raise BadQuery("give one date")
        try:
            moment = datetime.fromisoformat(values[0].replace("Z", "+00:00"))
        except ValueError:
            raise BadQuery(f"{values[0]!r} is not an ISO-8601 date or time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return {field: {operator: moment}}

    return build


def _health(dimension: str) -> Callable[..., Any]:
    allowed = list(HealthStatus) if dimension == "accuracy" else [s for s in HealthStatus if s != "unavailable"]
    return _enum_in(f"health.{dimension}.status", HealthStatus, allowed)


_FILTERS: dict[str, Callable[[list[str], Caller], dict[str, Any]]] = {
    "search": _search,
    "status": _enum_in("status", DeploymentStatus, LISTED_STATUSES),
    "importance": _enum_in("importance", Importance),
    **{f"{dimension}_health": _health(dimension) for dimension in HEALTH_DIMENSIONS},
    "platform": _enum_in("prediction_environment.platform", Platform),
    "target_type": _enum_in("model_package.target_type", TargetType),
    "owner": _strings_in("owners"),
    "created_by": _strings_in("created_by"),
    "tag": _strings_in("tag_terms"),
    "role": _role,
    "last_prediction_after": _date_bound("predictions.last_at", "$gte"),
    "last_prediction_before": _date_bound("predictions.last_at", "$lt"),
    "created_after": _date_bound("created_at", "$gte"),
    "created_before": _date_bound("created_at", "$lt"),
}
_ALLOWED = [*_FILTERS, "sort", "offset", "limit"]

PARAMETER_HELP = {
    "search": "Case-insensitive text in the label or description",
    "status": f"One or more of {', '.join(s.value for s in LISTED_STATUSES)}",
    "importance": "One or more of LOW, MODERATE, HIGH, CRITICAL",
    **{f"{d}_health": "One or more of passing, warning, failing, unknown" for d in HEALTH_DIMENSIONS},
    "platform": "Prediction environment platform, e.g. aws,gcp",
    "target_type": "Champion target type, e.g. Binary,Regression",
    "owner": "Deployments owned by these principals",
    "created_by": "Deployments created by these users",
    "tag": "Tag name (env) or name:value (env:prod)",
    "role": "Your role on the deployment: OWNER or USER",
    "last_prediction_after": "ISO-8601 time; last prediction at or after it",
    "last_prediction_before": "ISO-8601 time; last prediction before it",
    "created_after": "ISO-8601 time; created at or after it",
    "created_before": "ISO-8601 time; created before it",
    "sort": f"One of {', '.join(SORT_FIELDS)}; prefix '-' for descending (health: failing first)",
    "offset": "Rows to skip",
    "limit": f"Rows per page, 1 to {MAX_LIMIT}",
}
"""For the OpenAPI document; comma-separated values mean OR within a parameter, AND across them."""
