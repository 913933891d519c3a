"""Change requests: on a deployment of guarded importance (Policy), deactivate, delete and lowering the
importance are held for a second person's approval instead of running.

- Opening: the command is first checked as if it ran now (role, state), so only a command that
  would run is held; then it opens `ChangeRequestOpened`, id `derived_id(command_id, "change-request")`,
  deadline now + the policy's ttl. One open request per action at a time (`change-request-pending`).
- Approve / reject: an OWNER (by user or group) or an admin who is not the requester (`self-approval`),
  while the request is open (`change-request-closed`) and before its deadline (`change-request-expired`).
- Cancel: the requester only (`not-requester`), open and before the deadline, whatever their role now.
- Expire: once the deadline has passed (`change-request-not-expired` before); anyone may send it (in
  practice the service's sweeper), and it is the one review a deleted deployment still takes, so the
  requests that a deletion made moot can close.
- Approval runs the held command against the deployment as it is at that moment, as its requester
  (whose role is checked again): its events follow `ChangeRequestApproved`. If it would be refused now
  (e.g. the deployment was deactivated meanwhile), the approval is refused with `held-command-refused`
  naming the held command's code, and the request stays open to be rejected, canceled or left to
  expire: an approved request always ran its command. A request held for another service (its
  `command_stream`) is approved here and run by that service (see shared.contract.events.change_requests).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from services.actions.domain import codes
from services.actions.domain.lifecycle import available, run
from services.actions.domain.policy import IMPORTANCE_RANK, Policy
from services.actions.domain.state import ChangeRequest, DeploymentState
from shared.contract import events as ev
from shared.contract.commands import actions as cmd
from shared.contract.envelope import derived_id
from shared.contract.events.values import Role
from shared.contract.topology import Stream
from shared.domain.decider import Decision, Rejection
from shared.domain.fold import utc_ms
from shared.domain.roles import require

REVIEWS: tuple[type[cmd.ActionsCommand], ...] = (
    cmd.ApproveChangeRequest,
    cmd.RejectChangeRequest,
    cmd.CancelChangeRequest,
    cmd.ExpireChangeRequest,
)
_HOLDABLE = {command.type_name: command for command in cmd.HOLDABLE}


def change_request_id(command: cmd.ActionsCommand) -> str:
    return derived_id(command.command_id, "change-request")


def is_guarded(policy: Policy, state: DeploymentState, command: cmd.ActionsCommand) -> bool:
    """Whether `command` must wait for approval on the deployment as it is."""
    if state.importance not in policy.guarded_importances:
        return False
    if isinstance(command, cmd.DeactivateDeployment | cmd.DeleteDeployment):
        return True
    if isinstance(command, cmd.ChangeImportance) and state.importance is not None:
        return IMPORTANCE_RANK[command.importance] < IMPORTANCE_RANK[state.importance]
    return False


def hold(policy: Policy, state: DeploymentState, command: cmd.ActionsCommand, now: datetime) -> Decision:
    pending = next(
        (r for r in state.open_change_requests if r.action == command.type_name and now < r.expires_at), None
    )
    if pending is not None:
        return Rejection(
            codes.CHANGE_REQUEST_PENDING,
            f"change request {pending.id} by {pending.requested_by} already asks for {command.type_name} on "
            f"{state.deployment_id}; it must be approved, rejected or canceled first",
        )
    return [
        ev.ChangeRequestOpened.holding(
            command,
            change_request_id=change_request_id(command),
            expires_at=utc_ms(now + policy.change_request_ttl),
            reason=getattr(command, "reason", ""),
        )
    ]


def review(state: DeploymentState, command: cmd.ActionsCommand, now: datetime) -> Decision:
    if isinstance(command, cmd.ExpireChangeRequest):
        return expire(state, command, now)
    refused = available(state)
    if refused:
        return refused
    if isinstance(command, cmd.ApproveChangeRequest):
        return approve(state, command, now)
    if isinstance(command, cmd.RejectChangeRequest):
        return reject(state, command, now)
    if isinstance(command, cmd.CancelChangeRequest):
        return cancel(state, command, now)
    return Rejection(codes.UNKNOWN_COMMAND, f"{command.type_name} is not a change-request review")


def approve(state: DeploymentState, c: cmd.ApproveChangeRequest, now: datetime) -> Decision:
    request = _reviewable(state, c, now, "approving")
    if isinstance(request, Rejection):
        return request
    approved = ev.ChangeRequestApproved(
        deployment_id=c.deployment_id, change_request_id=request.id, approved_by=c.actor.user, comment=c.comment
    )
    if request.command_stream is not Stream.ACTIONS_COMMANDS:
        return [approved]  # the owning service runs it when it reads the approval
    held = _held_command(state, request)
    outcome = held if isinstance(held, Rejection) else run(state, held)
    if isinstance(outcome, Rejection):
        return Rejection(
            codes.HELD_COMMAND_REFUSED,
            f"the held {request.action} cannot run now ({outcome.code}: {outcome.reason}); "
            f"reject change request {request.id}, or let its requester cancel it",
        )
    return [approved, *outcome]


def reject(state: DeploymentState, c: cmd.RejectChangeRequest, now: datetime) -> Decision:
    request = _reviewable(state, c, now, "rejecting")
    if isinstance(request, Rejection):
        return request
    return [
        ev.ChangeRequestRejected(
            deployment_id=c.deployment_id, change_request_id=request.id, rejected_by=c.actor.user, comment=c.comment
        )
    ]


def cancel(state: DeploymentState, c: cmd.CancelChangeRequest, now: datetime) -> Decision:
    request = _open_before_deadline(state, c.change_request_id, now)
    if isinstance(request, Rejection):
        return request
    if c.actor.user != request.requested_by:
        return Rejection(
            codes.NOT_REQUESTER,
            f"only {request.requested_by}, who asked for it, may cancel change request {request.id}",
        )
    return [
        ev.ChangeRequestCanceled(deployment_id=c.deployment_id, change_request_id=request.id, canceled_by=c.actor.user)
    ]


def expire(state: DeploymentState, c: cmd.ExpireChangeRequest, now: datetime) -> Decision:
    refused = available(state, for_erasure=True)  # a deleted deployment's requests still expire
    if refused:
        return refused
    request = _open(state, c.change_request_id)
    if isinstance(request, Rejection):
        return request
    if now < request.expires_at:
        return Rejection(
            codes.CHANGE_REQUEST_NOT_EXPIRED,
            f"change request {request.id} is open until {request.expires_at.isoformat()}",
        )
    return [ev.ChangeRequestExpired(deployment_id=c.deployment_id, change_request_id=request.id)]


def _reviewable(
    state: DeploymentState, c: cmd.ApproveChangeRequest | cmd.RejectChangeRequest, now: datetime, what: str
) -> ChangeRequest | Rejection:
    refused = require(state, c.actor, Role.OWNER, f"{what} a change request")
    if refused:
        return refused
    request = _open_before_deadline(state, c.change_request_id, now)
    if isinstance(request, Rejection):
        return request
    if c.actor.user == request.requested_by:
        return Rejection(
            codes.SELF_APPROVAL,
            f"{c.actor.user} asked for change request {request.id}; another OWNER or an admin reviews it "
            "(the requester may cancel it)",
        )
    return request


def _open_before_deadline(state: DeploymentState, change_request_id: str, now: datetime) -> ChangeRequest | Rejection:
    request = _open(state, change_request_id)
    if isinstance(request, Rejection):
        return request
    if now >= request.expires_at:
        return Rejection(
            codes.CHANGE_REQUEST_EXPIRED,
            f"change request {request.id} expired at {request.expires_at.isoformat()}",
        )
    return request


def _open(state: DeploymentState, change_request_id: str) -> ChangeRequest | Rejection:
    request = state.change_request(change_request_id)
    if request is None:
        return Rejection(
            codes.CHANGE_REQUEST_NOT_FOUND,
            f"deployment {state.deployment_id} has no change request {change_request_id}",
        )
    if not request.is_open:
        return Rejection(
            codes.CHANGE_REQUEST_CLOSED,
            f"change request {request.id} was {request.status}"
            + (f" by {request.closed_by}" if request.closed_by else ""),
        )
    return request


def _held_command(state: DeploymentState, request: ChangeRequest) -> cmd.ActionsCommand | Rejection:
    model = _HOLDABLE.get(request.action)
    if model is None or model.version != request.command_version:
        return Rejection(codes.UNKNOWN_COMMAND, f"the actions service cannot run a held {request.action}")
    try:
        held = model.model_validate(request.command)
    except ValidationError as error:
        return Rejection(
            codes.UNKNOWN_COMMAND, f"the held {request.action} is unreadable ({error.error_count()} errors)"
        )
    if held.deployment_id != state.deployment_id:
        return Rejection(codes.UNKNOWN_COMMAND, f"the held {request.action} is for deployment {held.deployment_id}")
    return held
