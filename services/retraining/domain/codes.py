"""Every code a refusal of the retraining service carries, and what kind of refusal it is (as the other
services' codes: programs match on codes, people read the reasons; an edge maps `KIND` to HTTP), and the
codes a failed run carries (`RetrainingRunFailed.code`).
"""

from __future__ import annotations

import enum


class Kind(enum.StrEnum):
    NOT_FOUND = "not-found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"


# refusals (CommandRejected.code)
NOT_FOUND = "not-found"
DEPLOYMENT_DELETED = "deployment-deleted"
DEPLOYMENT_ERASED = "deployment-erased"
FORBIDDEN = "forbidden"
RETRAINING_USER_NOT_OWNER = "retraining-user-not-owner"
NO_RETRAINING_SETTINGS = "no-retraining-settings"
POLICY_LIMIT = "policy-limit"
POLICY_UNKNOWN = "policy-unknown"
SCHEDULE_NEVER_DUE = "schedule-never-due"
RUN_UNKNOWN = "run-unknown"
RUN_FINISHED = "run-finished"
RUN_PAST_CANCEL_POINT = "run-past-cancel-point"
NOT_DUE = "not-due"
NOTHING_TO_ADVANCE = "nothing-to-advance"
UNKNOWN_COMMAND = "unknown-command"

KIND: dict[str, Kind] = {
    NOT_FOUND: Kind.NOT_FOUND,
    POLICY_UNKNOWN: Kind.NOT_FOUND,
    RUN_UNKNOWN: Kind.NOT_FOUND,
    FORBIDDEN: Kind.FORBIDDEN,
    **{
        code: Kind.CONFLICT
        for code in (
            DEPLOYMENT_DELETED,
            DEPLOYMENT_ERASED,
            RETRAINING_USER_NOT_OWNER,
            NO_RETRAINING_SETTINGS,
            POLICY_LIMIT,
            SCHEDULE_NEVER_DUE,
            RUN_FINISHED,
            RUN_PAST_CANCEL_POINT,
            NOT_DUE,
            NOTHING_TO_ADVANCE,
            UNKNOWN_COMMAND,
        )
    },
}

# why a run failed (RetrainingRunFailed.code)
RUN_NO_SETTINGS = "no-retraining-settings"
RUN_CHAMPION_UNKNOWN = "champion-unknown"
RUN_NOT_PERMITTED = "not-permitted"
RUN_TRAINING_FAILED = "training-failed"
RUN_TRAINING_TIMEOUT = "training-timeout"
RUN_MODEL_ACTION_REFUSED = "model-action-refused"
