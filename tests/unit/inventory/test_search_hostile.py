"""Any text can be searched, and none of it reaches the database as anything but a literal pattern:
hostile inputs become one `$regex` value per field, escaped so that it matches the text itself only."""

from __future__ import annotations

import re
from typing import Any

import pytest

from services.inventory.adapters.query import BLANKS, Caller, parse_list_query, search_pattern

ALICE = Caller(user="alice")
HOSTILE = [
    "$where",
    '{"$gt": ""}',
    "[",
    "a[b",
    ".*",
    "\\",
    "\x00",
    "a\x00b",
    "this.password.length > 0 || true",
    "$regex",
    "(?i)^.*$",
    "{$ne: 1}",
    "'; return true; var x='",
    "\u0000\u001f\u007f",
    "ß Σ 中文 🙂",
    "a" * 5000,
]


def search_clause(text: str) -> dict[str, Any]:
    query = parse_list_query({"search": [text]}, ALICE)
    clause: dict[str, Any] = query.filter["$and"][1]
    return clause


def keys_of(value: Any) -> list[str]:
    """Every key anywhere in a filter document."""
    if isinstance(value, dict):
        return [key for k, v in value.items() for key in (k, *keys_of(v))]
    if isinstance(value, list):
        return [key for item in value for key in keys_of(item)]
    return []


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_any_text_is_one_literal_pattern_per_field_and_never_a_key(text: str) -> None:
    clause = search_clause(text)
    pattern = {"$regex": search_pattern(text.strip(BLANKS)), "$options": "i"}
    assert clause == {"$or": [{"label": pattern}, {"description": pattern}]}
    # The caller's text never becomes a key: only the parser's own operators and field names do.
    assert set(keys_of(clause)) == {"$or", "label", "description", "$regex", "$options"}


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_the_pattern_matches_the_text_itself_and_nothing_looser(text: str) -> None:
    pattern = search_pattern(text)
    assert "\x00" not in pattern and "\n" not in pattern  # no raw control character reaches the database
    assert re.search(pattern, f"before {text} after", re.IGNORECASE)
    if len(text) > 1:
        assert not re.search(pattern, text[:-1] + "\n", re.IGNORECASE)  # no wildcard in it


@pytest.mark.parametrize(
    ("text", "matches", "misses"),
    [
        (".*", "a.*b", "anything"),
        ("a[b", "label a[b", "ab"),
        ("\\", "back\\slash", "slash"),
        ("$where", "x$where", "where"),
        ("a b", "A B", "ab"),
    ],
)
def test_metacharacters_are_literal(text: str, matches: str, misses: str) -> None:
    pattern = search_pattern(text)
    assert re.search(pattern, matches, re.IGNORECASE)
    assert not re.search(pattern, misses, re.IGNORECASE)
