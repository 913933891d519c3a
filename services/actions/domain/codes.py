"""Every code a refusal of the actions service carries, and what kind of refusal it is.

Codes are stable (programs match on them); the reasons that go with them are for people. The kinds and
the codes every service shares live in shared.domain.codes; `KIND` adds this service's own.
"""

from __future__ import annotations

from shared.domain.codes import DEPLOYMENT_DELETED as DEPLOYMENT_DELETED
from shared.domain.codes import DEPLOYMENT_ERASED as DEPLOYMENT_ERASED
from shared.domain.codes import FORBIDDEN as FORBIDDEN
from shared.domain.codes import NOT_FOUND as NOT_FOUND
from shared.domain.codes import UNKNOWN_COMMAND as UNKNOWN_COMMAND
from shared.domain.codes import Kind as Kind
from shared.domain.codes import kinds

ALREADY_EXISTS = "already-exists"
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

KIND: dict[str, Kind] = kinds(
    not_found=(CHANGE_REQUEST_NOT_FOUND,),
    forbidden=(SELF_APPROVAL, NOT_REQUESTER),
    conflict=(
        ALREADY_EXISTS,
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
    ),
)
