"""What kind of refusal a code is, and the codes every command side shares.

Codes are stable (programs match on them); the reasons that go with them are for people. Each service
keeps its own codes in `services/<name>/domain/codes.py` and builds its `KIND` table with `kinds`, so an
edge can answer without knowing each code (e.g. HTTP: not-found 404, forbidden 403, conflict 409).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Kind(enum.StrEnum):
    NOT_FOUND = "not-found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"


NOT_FOUND = "not-found"
FORBIDDEN = "forbidden"
DEPLOYMENT_DELETED = "deployment-deleted"
DEPLOYMENT_ERASED = "deployment-erased"
UNKNOWN_COMMAND = "unknown-command"


def kinds(
    *, not_found: Iterable[str] = (), forbidden: Iterable[str] = (), conflict: Iterable[str] = ()
) -> dict[str, Kind]:
    """A service's code -> kind table: the shared codes plus its own."""
    table = {NOT_FOUND: Kind.NOT_FOUND, FORBIDDEN: Kind.FORBIDDEN}
    table |= {code: Kind.CONFLICT for code in (DEPLOYMENT_DELETED, DEPLOYMENT_ERASED, UNKNOWN_COMMAND)}
    table |= {code: Kind.NOT_FOUND for code in not_found}
    table |= {code: Kind.FORBIDDEN for code in forbidden}
    table |= {code: Kind.CONFLICT for code in conflict}
    return table
