"""Taking a retraining command at the HTTP edge: refuse at once what is already known to be refused, else
submit it (202), as the other services do; and who may read a deployment's retraining.

The pre-check runs the command handler's own pure decision against the deployment as the service knows
it now (one point read by `_id`): a refusal becomes 404 / 403 / 409 with its code and reason, anything
else is submitted. The handler decides again, in order, when the command runs; its refusal is a
CommandRejected that `GET /commands/{id}` shows. The service's internal commands (the scheduler's) are
never taken here.
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

from services.retraining.domain import codes
from services.retraining.domain.roles import has_role
from services.retraining.domain.state import RetrainingState
from shared.contract.commands.retraining import INTERNAL, RetrainingCommand
from shared.contract.events.values import DeploymentStatus, Role
from shared.contract.messages import Actor, Command, Event
from shared.domain.decider import Rejection
from shared.service.command_api import Accepted, CommandGateway, IdempotencyConflict
from shared.service.commands import Clock, utc_now
from shared.storage.aggregates import AggregateStore

C = TypeVar("C", bound=Command)
Judge = Callable[[RetrainingState, Command, datetime], Sequence[Event] | Rejection]
"""CommandHandler.decision: the pure decision the handler itself makes."""

HTTP_STATUS = {codes.Kind.NOT_FOUND: 404, codes.Kind.FORBIDDEN: 403, codes.Kind.CONFLICT: 409}
IDEMPOTENCY_KEY_REUSED = "idempotency-key-reused"
INTERNAL_COMMAND = "internal-command"


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


def refused(rejection: Rejection) -> Refused:
    """The HTTP refusal of a domain refusal, by the kind of its code (409 for a code of no known kind)."""
    kind = codes.KIND.get(rejection.code, codes.Kind.CONFLICT)
    return Refused(HTTP_STATUS[kind], rejection.reason, rejection.code)


def build(command_type: type[C], body: BaseModel | None = None, **fields: Any) -> C:
    """The command from the request; a body the command's own rules refuse is a 422 like any other invalid
    body, never a 500."""
    values = {**(body.model_dump(exclude_unset=True) if body is not None else {}), **fields}
    try:
        return command_type(**values)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError(jsonable_encoder([{**p, "loc": ("body", *p["loc"])} for p in problems])) from None


class Admission:
    def __init__(
        self,
        gateway: CommandGateway,
        store: AggregateStore[RetrainingState],
        judge: Judge,
        clock: Clock = utc_now,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.judge = judge
        self.clock = clock

    async def admit(self, command: RetrainingCommand, *, correlation_id: str | None, resent_possible: bool) -> Accepted:
        """Pre-check `command`, then submit it; raises Refused. `resent_possible`: the caller chose the
        command id, so it may be a retry of a command already decided, which is answered with its status
        rather than judged again against the state it changed."""
        if isinstance(command, INTERNAL):
            raise Refused(400, f"{command.type_name} is the retraining service's own command", INTERNAL_COMMAND)
        if not (resent_possible and await self.gateway.statuses.get(command.command_id) is not None):
            state = (await self.store.load(command.deployment_id)).state
            decision = self.judge(state, command, self.clock())
            if isinstance(decision, Rejection) and decision.code in codes.KIND:
                raise refused(decision)
            # Any other refusal (decide failed: `internal-error`) is the handler's to record and show.
        try:
            return await self.gateway.submit(command, correlation_id=correlation_id)
        except IdempotencyConflict as error:
            raise Refused(409, str(error), IDEMPOTENCY_KEY_REUSED) from None

    async def visible(self, deployment_id: str, who: Actor) -> RetrainingState:
        """The deployment's state if `who` may see its retraining (an admin, an OWNER or a USER); else 404,
        so that a deployment one may not see and one that does not exist look the same."""
        state = (await self.store.load(deployment_id)).state
        seen = state.exists and state.status is not DeploymentStatus.ERASED
        if not seen or not has_role(state, who, Role.USER):
            raise Refused(404, f"deployment {deployment_id} is not known", codes.NOT_FOUND)
        return state
