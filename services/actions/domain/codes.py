"""Every code a refusal of the actions service carries, and what kind of refusal it is.

Codes are stable (programs match on them); the reasons that go with them are for people. `KIND` lets
an edge answer without knowing each code (e.g. HTTP: not-found 404, forbidden 403, conflict 409).
"""

from __future__ import annotations

import enum


class Kind(enum.StrEnum):
    NOT_FOUND = "not-found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"


ALREADY_EXISTS = "already-exists"
NOT_FOUND = "not-found"
DEPLOYMENT_ERASED = "deployment-erased"
DEPLOYMENT_DELETED = "deployment-deleted"
FORBIDDEN = "forbidden"
ALREADY_ACTIVE = "already-active"
ALREADY_INACTIVE = "already-inactive"
DEPLOYMENT_LAUNCHING = "deployment-launching"
NOT_DELETED = "not-deleted"
NO_CHANGE = "no-change"
LAST_OWNER = "last-owner"
NOT_SHARED = "not-shared"
CHANGE_REQUEST_PENDING = "change-request-pending"
CHANGE_REQUEST_NOT_FOUND = "change-request-not-found"
CHANGE_REQUEST_CLOSED = "change-request-closed"
CHANGE_REQUEST_EXPIRED = "change-request-expired"
CHANGE_REQUEST_NOT_EXPIRED = "change-request-not-expired"
SELF_APPROVAL = "self-approval"
NOT_REQUESTER = "not-requester"
HELD_COMMAND_REFUSED = "held-command-refused"
UNKNOWN_COMMAND = "unknown-command"

KIND: dict[str, Kind] = {
    NOT_FOUND: Kind.NOT_FOUND,
    CHANGE_REQUEST_NOT_FOUND: Kind.NOT_FOUND,
    FORBIDDEN: Kind.FORBIDDEN,
    SELF_APPROVAL: Kind.FORBIDDEN,
    NOT_REQUESTER: Kind.FORBIDDEN,
    **{
        code: Kind.CONFLICT
        for code in (
            ALREADY_EXISTS,
            DEPLOYMENT_ERASED,
            DEPLOYMENT_DELETED,
            ALREADY_ACTIVE,
            ALREADY_INACTIVE,
            DEPLOYMENT_LAUNCHING,
            NOT_DELETED,
            NO_CHANGE,
            LAST_OWNER,
            NOT_SHARED,
            CHANGE_REQUEST_PENDING,
            CHANGE_REQUEST_CLOSED,
            CHANGE_REQUEST_EXPIRED,
            CHANGE_REQUEST_NOT_EXPIRED,
            HELD_COMMAND_REFUSED,
            UNKNOWN_COMMAND,
        )
    },
}
