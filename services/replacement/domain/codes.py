"""Every code a refusal of the replacement service carries, and what kind of refusal it is (the kinds and
the shared codes live in shared.domain.codes; `KIND` adds this service's own).

A replacement refused by its checks is not a code: it ends in `ModelReplacementRejected` with them.
"""

from __future__ import annotations

from shared.domain.codes import DEPLOYMENT_DELETED as DEPLOYMENT_DELETED
from shared.domain.codes import DEPLOYMENT_ERASED as DEPLOYMENT_ERASED
from shared.domain.codes import FORBIDDEN as FORBIDDEN
from shared.domain.codes import NOT_FOUND as NOT_FOUND
from shared.domain.codes import UNKNOWN_COMMAND as UNKNOWN_COMMAND
from shared.domain.codes import Kind as Kind
from shared.domain.codes import kinds

PACKAGE_UNKNOWN = "package-unknown"
CHECKS_FAILING = "checks-failing"
CHALLENGER_LIMIT = "challenger-limit"
CHALLENGER_UNKNOWN = "challenger-unknown"
NOTHING_TO_ROLL_BACK = "nothing-to-roll-back"
CHANGE_REQUEST_PENDING = "change-request-pending"
CHANGE_REQUEST_NOT_APPROVED = "change-request-not-approved"

KIND: dict[str, Kind] = kinds(
    not_found=(PACKAGE_UNKNOWN, CHALLENGER_UNKNOWN),
    forbidden=(CHANGE_REQUEST_NOT_APPROVED,),
    conflict=(CHECKS_FAILING, CHALLENGER_LIMIT, NOTHING_TO_ROLL_BACK, CHANGE_REQUEST_PENDING),
)
