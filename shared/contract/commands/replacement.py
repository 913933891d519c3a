"""Commands the replacement service owns, on its command stream (`<namespace>.replacement-commands`).

Every command that changes the champion (replace, roll back, promote) is validated again when it runs:
passing or warning ends in `ModelReplaced`, failing in `ModelReplacementRejected` with the checks. A
package the service has not seen registered is refused (`CommandRejected`, code `package-unknown`).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from shared.contract.events.values import ReplacementReason
from shared.contract.messages import Command
from shared.contract.topology import Stream

_ID = Field(min_length=1, max_length=256)
_NOTE = Field(default="", max_length=2_000, description="Free text kept in the model history")
_CHANGE_REQUEST = Field(
    default=None,
    max_length=256,
    description="Set by the actions service only, when it runs a change request that was approved; "
    "never taken from an HTTP caller",
)


class ReplacementCommand(Command):
    stream: ClassVar[Stream] = Stream.REPLACEMENT_COMMANDS


class ValidateReplacement(ReplacementCommand):
    """A dry run: check a package against the deployment and record the outcome
    (`ModelReplacementValidated`); nothing changes."""

    type_name: ClassVar[str] = "ValidateReplacement"

    model_package_id: str = _ID


class ReplaceModel(ReplacementCommand):
    """Make a registered package the deployment's champion."""

    type_name: ClassVar[str] = "ReplaceModel"

    model_package_id: str = _ID
    reason: ReplacementReason
    note: str = _NOTE
    change_request_id: str | None = _CHANGE_REQUEST


class RollbackModel(ReplacementCommand):
    """Go back to the champion before the current one, through the same checks."""

    type_name: ClassVar[str] = "RollbackModel"

    reason: ReplacementReason
    note: str = _NOTE
    change_request_id: str | None = _CHANGE_REQUEST


class AddChallenger(ReplacementCommand):
    """Add a registered package as a challenger (at most five, each a distinct package, never the champion);
    the challenger's id is derived from the command id."""

    type_name: ClassVar[str] = "AddChallenger"

    model_package_id: str = _ID
    prediction_environment_id: str | None = Field(default=None, max_length=256)


class RemoveChallenger(ReplacementCommand):
    """Remove a challenger, named by its id or by its package (exactly one of the two)."""

    type_name: ClassVar[str] = "RemoveChallenger"

    challenger_id: str | None = Field(default=None, min_length=1, max_length=256)
    model_package_id: str | None = Field(default=None, min_length=1, max_length=256)

    @model_validator(mode="after")
    def _names_one_challenger(self) -> RemoveChallenger:
        if (self.challenger_id is None) == (self.model_package_id is None):
            raise ValueError("name the challenger by challenger_id or by model_package_id, not both nor neither")
        return self


class PromoteChallenger(ReplacementCommand):
    """Replace the champion by a challenger's package; the challenger leaves the challengers."""

    type_name: ClassVar[str] = "PromoteChallenger"

    challenger_id: str = _ID
    reason: ReplacementReason
    note: str = _NOTE
    change_request_id: str | None = _CHANGE_REQUEST
