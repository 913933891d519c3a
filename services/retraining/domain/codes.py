"""Every code a refusal of the retraining service carries, and what kind of refusal it is (the kinds and
the shared codes live in shared.domain.codes; `KIND` adds this service's own), and the codes a failed run
carries (`RetrainingRunFailed.code`).
"""

from __future__ import annotations

from shared.domain.codes import DEPLOYMENT_DELETED as DEPLOYMENT_DELETED
from shared.domain.codes import DEPLOYMENT_ERASED as DEPLOYMENT_ERASED
from shared.domain.codes import FORBIDDEN as FORBIDDEN
from shared.domain.codes import NOT_FOUND as NOT_FOUND
from shared.domain.codes import UNKNOWN_COMMAND as UNKNOWN_COMMAND
from shared.domain.codes import Kind as Kind
from shared.domain.codes import kinds

# refusals (CommandRejected.code), besides the shared ones
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

KIND: dict[str, Kind] = kinds(
    not_found=(POLICY_UNKNOWN, RUN_UNKNOWN),
    conflict=(
        RETRAINING_USER_NOT_OWNER,
        NO_RETRAINING_SETTINGS,
        POLICY_LIMIT,
        SCHEDULE_NEVER_DUE,
        RUN_FINISHED,
        RUN_PAST_CANCEL_POINT,
        NOT_DUE,
        NOTHING_TO_ADVANCE,
    ),
)

# why a run failed (RetrainingRunFailed.code)
RUN_NO_SETTINGS = "no-retraining-settings"
RUN_CHAMPION_UNKNOWN = "champion-unknown"
RUN_NOT_PERMITTED = "not-permitted"
RUN_TRAINING_FAILED = "training-failed"
RUN_TRAINING_TIMEOUT = "training-timeout"
RUN_MODEL_ACTION_REFUSED = "model-action-refused"
