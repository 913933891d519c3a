"""Change requests: a command held until another OWNER or an admin approves it (DataRobot's approval
workflow), on the deployment stream, so the audit trail shows who asked, who decided and why.

Life of a request: `ChangeRequestOpened` then exactly one of `ChangeRequestApproved`,
`ChangeRequestRejected`, `ChangeRequestCanceled` (by the requester) or `ChangeRequestExpired` (after
`expires_at`). The actions service reviews every change request: approve, reject, cancel and expire are
actions commands, whichever service's command is held, because the actions service keeps the roles.

Holding a command, for any service (e.g. the replacement service under issue 9):
- Instead of running a command, the owning service emits `ChangeRequestOpened.holding(command, ...)`:
  `action` and `command_version` name the command's type and version, `command` is its whole body as
  JSON (command id and actor included), `command_stream` is the owning service's command stream.
  Derive `change_request_id` from the command id (`derived_id(command_id, "change-request")`), so a
  re-decided command opens the same request.
- The actions service folds the opened request (its own at once, another service's when it arrives
  on the deployment stream) and decides the reviews against it.
- On approval, a command held on the actions stream runs inside the approval (its events follow
  `ChangeRequestApproved` in the same decision). A command held on another stream is the owning
  service's to run: it consumes `ChangeRequestApproved`, finds the request it opened, rebuilds the
  command with `held_command(registry)` and decides it against its state at that moment (under a
  command id derived from the change request id, e.g. `derived_id(change_request_id, "approved")`).
  Rejected, canceled and expired requests never run.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import AwareDatetime, Field

from shared.contract.events.deployment import DeploymentEvent
from shared.contract.messages import Command, MessageRegistry
from shared.contract.topology import Stream

ChangeRequestId = Annotated[str, Field(min_length=1, max_length=128)]
Principal = Annotated[str, Field(min_length=1, max_length=256)]
Comment = Annotated[str, Field(max_length=2_000)]


class ChangeRequestOpened(DeploymentEvent):
    """A command is held until it is reviewed; it runs only when approved before `expires_at`."""

    type_name: ClassVar[str] = "ChangeRequestOpened"

    change_request_id: ChangeRequestId
    action: str = Field(min_length=1, max_length=128, description="The held command's type name")
    command_version: int = Field(default=1, ge=1, description="The held command's schema version")
    command_stream: Stream = Field(
        default=Stream.ACTIONS_COMMANDS, description="The command stream of the service that runs it once approved"
    )
    command: dict[str, Any] = Field(description="The held command's body (as on its command stream)")
    requested_by: Principal
    expires_at: AwareDatetime
    reason: str = Field(default="", max_length=1_000)

    @classmethod
    def holding(
        cls, command: Command, *, change_request_id: str, expires_at: AwareDatetime, reason: str = ""
    ) -> ChangeRequestOpened:
        return cls(
            deployment_id=command.deployment_id,
            change_request_id=change_request_id,
            action=command.type_name,
            command_version=command.version,
            command_stream=command.stream,
            command=command.model_dump(mode="json"),
            requested_by=command.actor.user,
            expires_at=expires_at,
            reason=reason,
        )

    def held_command(self, registry: MessageRegistry) -> Command:
        """The held command as its owner parses it (upcast to the newest version it knows)."""
        message = registry.parse(self.action, self.command_version, self.command)
        if not isinstance(message, Command):
            raise TypeError(f"{self.action} is not a command")
        return message


class ChangeRequestApproved(DeploymentEvent):
    type_name: ClassVar[str] = "ChangeRequestApproved"

    change_request_id: ChangeRequestId
    approved_by: Principal
    comment: Comment = ""


class ChangeRequestRejected(DeploymentEvent):
    type_name: ClassVar[str] = "ChangeRequestRejected"

    change_request_id: ChangeRequestId
    rejected_by: Principal
    comment: Comment = ""


class ChangeRequestCanceled(DeploymentEvent):
    """The requester withdrew the request."""

    type_name: ClassVar[str] = "ChangeRequestCanceled"

    change_request_id: ChangeRequestId
    canceled_by: Principal


class ChangeRequestExpired(DeploymentEvent):
    """Nobody reviewed the request before its deadline."""

    type_name: ClassVar[str] = "ChangeRequestExpired"

    change_request_id: ChangeRequestId
