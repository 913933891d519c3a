"""How a projection's state is laid out in its document: the whole state as one JSON string, plus
copies of the few fields that queries filter and sort on, at the paths the state itself has.

Why not the state's fields as nested BSON: FerretDB v1 converts every value of a document between
BSON, Go and PostgreSQL's jsonb (with a type schema per value) on each read and write, so its cost
grows with the number of values, not the bytes. An inventory document with its model history and
health windows has hundreds; as one string plus ~25 queried values, FerretDB reads it back in about
half the time. MongoDB is indifferent, and its indexes see the same paths either way, so one layout
serves both backends.

The queried copies are derived from the state on every write, so they can never disagree with it;
a document written before this layout (no `_state`) is still read, from its fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from shared.storage.mongo import Document

STATE = "_state"
_MISSING = object()

S = TypeVar("S", bound=BaseModel)


def packed(state: BaseModel, queried: Sequence[str]) -> Document:
    """The stored fields of `state`: `_state` (its JSON) and each queried dotted path that has a value."""
    full = state.model_dump(mode="python")
    document: Document = {STATE: state.model_dump_json()}
    for path in queried:
        value = _get(full, path)
        if value is not _MISSING:
            _put(document, path, value)
    return document


def unpacked(model: type[S], document: Document) -> S:
    """The state a stored document holds."""
    text = document.get(STATE)
    if isinstance(text, str):
        return model.model_validate_json(text)
    return model.model_validate(document)


def _get(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _put(document: Document, path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        document = document.setdefault(part, {})
    document[leaf] = value
