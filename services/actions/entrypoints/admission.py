"""Taking a command at the HTTP edge: refuse at once what is already known to be refused, else submit it.

The pre-check runs the command handler's own pure decision against the deployment as the service
knows it now (one point read by `_id`): a refusal becomes 404 / 403 / 409 with its code and reason,
anything else is submitted and answered 202. The pre-check is advice, not the decision: the handler
decides again, in order, against the state at that moment, and its refusal is a CommandRejected that
`GET /commands/{id}` shows. So a command sent right behind another one on the same deployment is judged
by the state before the first one runs (send dependent commands after the first has settled).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from services.actions.domain import codes
from services.actions.domain.state import DeploymentState
from shared.contract import events as ev
from shared.contract.messages import Command, Event
from shared.domain.decider import Rejection
from shared.service.command_api import Accepted, CommandGateway, IdempotencyConflict
from shared.service.commands import Clock, utc_now
from shared.service.logging import get_logger
from shared.storage.aggregates import AggregateStore

log = get_logger(__name__)

C = TypeVar("C", bound=Command)
Judge = Callable[[DeploymentState, Command, datetime], Sequence[Event] | Rejection]
"""CommandHandler.decision: the pure decision the handler itself makes."""

HTTP_STATUS = {codes.Kind.NOT_FOUND: 404, codes.Kind.FORBIDDEN: 403, codes.Kind.CONFLICT: 409}
IDEMPOTENCY_KEY_REUSED = "idempotency-key-reused"


class Refused(Exception):
    """A request answered with an error status, a reason and (when there is one) a stable code."""

    def __init__(self, status: int, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.code = code


async def refused_response(_: Request, exc: Exception) -> JSONResponse:
    """The exception handler for Refused: a shared.service.command_api.Problem body."""
    assert isinstance(exc, Refused)
    return JSONResponse({"detail": exc.reason, "code": exc.code}, status_code=exc.status)


def status_for(rejection: Rejection) -> int:
    """The HTTP status of a domain refusal, by the kind of its code."""
    return HTTP_STATUS[codes.KIND[rejection.code]]


def build(command_type: type[C], body: BaseModel | None = None, **fields: Any) -> C:
    """The command from the request; a body the command's own rules refuse (e.g. a range whose start is
    not before its end) is a 422 like any other invalid body, never a 500."""
    values = {**(body.model_dump(exclude_unset=True) if body is not None else {}), **fields}
    try:
        return command_type(**values)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError(jsonable_encoder([{**p, "loc": ("body", *p["loc"])} for p in problems])) from None


class ActionAccepted(Accepted):
    change_request_id: str | None = None
    """Set when the command is expected to open a change request (the deployment's importance needs
    approval): the request to follow at `GET /deployments/{id}/change-requests`. `GET /commands/{id}`
    tells what the command did."""


class Admission:
    def __init__(
        self,
        gateway: CommandGateway,
        store: AggregateStore[DeploymentState],
        judge: Judge,
        clock: Clock = utc_now,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.judge = judge
        self.clock = clock

    async def admit(self, command: Command, *, correlation_id: str | None, resent_possible: bool) -> ActionAccepted:
        """Pre-check `command`, then submit it; raises Refused. `resent_possible`: the caller chose the
        command id, so it may be a retry of a command already decided, which is answered with its
        status rather than judged again against the state it changed."""
        expected: Sequence[Event] = ()
        if not (resent_possible and await self.gateway.statuses.get(command.command_id) is not None):
            aggregate = await self.store.load(command.deployment_id)
            decision = self.judge(aggregate.state, command, self.clock())
            if isinstance(decision, Rejection) and decision.code in codes.KIND:
                raise Refused(status_for(decision), decision.reason, decision.code)
            # Any other refusal (decide failed: `internal-error`) is the handler's to record and show.
            expected = () if isinstance(decision, Rejection) else decision
        try:
            accepted = await self.gateway.submit(command, correlation_id=correlation_id)
        except IdempotencyConflict as error:
            raise Refused(409, str(error), IDEMPOTENCY_KEY_REUSED) from None
        opened = next((e for e in expected if isinstance(e, ev.ChangeRequestOpened)), None)
        return ActionAccepted(
            **accepted.model_dump(), change_request_id=opened.change_request_id if opened is not None else None
        )
