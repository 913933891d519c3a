"""Every code a refusal of the replacement service carries, and what kind of refusal it is (as the
actions service's codes: programs match on codes, people read the reasons; an edge maps `KIND` to HTTP).

A replacement refused by its checks is not a code: it ends in `ModelReplacementRejected` with them.
"""

from __future__ import annotations

import enum


class Kind(enum.StrEnum):
    NOT_FOUND = "not-found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"


NOT_FOUND = "not-found"
DEPLOYMENT_ERASED = "deployment-erased"
DEPLOYMENT_DELETED = "deployment-deleted"
PACKAGE_UNKNOWN = "package-unknown"
FORBIDDEN = "forbidden"
CHECKS_FAILING = "checks-failing"
CHALLENGER_LIMIT = "challenger-limit"
CHALLENGER_UNKNOWN = "challenger-unknown"
NOTHING_TO_ROLL_BACK = "nothing-to-roll-back"
CHANGE_REQUEST_PENDING = "change-request-pending"
CHANGE_REQUEST_NOT_APPROVED = "change-request-not-approved"
UNKNOWN_COMMAND = "unknown-command"

KIND: dict[str, Kind] = {
    NOT_FOUND: Kind.NOT_FOUND,
    PACKAGE_UNKNOWN: Kind.NOT_FOUND,
    CHALLENGER_UNKNOWN: Kind.NOT_FOUND,
    FORBIDDEN: Kind.FORBIDDEN,
    CHANGE_REQUEST_NOT_APPROVED: Kind.FORBIDDEN,
    **{
        code: Kind.CONFLICT
        for code in (
            DEPLOYMENT_ERASED,
            DEPLOYMENT_DELETED,
            CHECKS_FAILING,
            CHALLENGER_LIMIT,
            NOTHING_TO_ROLL_BACK,
            CHANGE_REQUEST_PENDING,
            UNKNOWN_COMMAND,
        )
    },
}
