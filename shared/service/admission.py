"""Taking a command at the HTTP edge: refuse at once what is already known to be refused, else submit it.

The pre-check runs the command handler's own pure decision against the deployment as the service knows
it now (one point read by `_id`): a refusal becomes 404 / 403 / 409 by the kind of its code (a service's
`codes.KIND`), with its code and reason; anything else is submitted and answered 202. The pre-check is
advice, not the decision: the handler decides again, in order, against the state at that moment, and its
refusal is a CommandRejected that `GET /commands/{id}` shows. So a command sent right behind another one
on the same deployment is judged by the state before the first one runs (send dependent commands after
the first has settled).

`Submission` is what every command route takes alike (the caller, the idempotency and correlation
headers): `Annotated[Submission, Depends(submissions(admission, actor))]`.

No `from __future__ import annotations` here: FastAPI must evaluate the dependency's annotations.
"""

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from shared.contract.messages import Actor, Command, Event
from shared.domain.codes import Kind
from shared.domain.decider import Decision, Rejection
from shared.service.command_api import (
    Accepted,
    CommandGateway,
    CorrelationId,
    IdempotencyConflict,
    IdempotencyKey,
    command_id_from,
)
from shared.service.commands import Clock, utc_now
from shared.storage.aggregates import AggregateStore

S = TypeVar("S", bound=BaseModel)
C = TypeVar("C", bound=Command)

Judge = Callable[[S, Command, datetime], Decision]
"""CommandHandler.decision: the pure decision the handler itself makes."""
Precheck = Callable[[S, Command], Awaitable[Decision]]
"""The decision the edge pre-checks a command with, against the state it loaded."""

HTTP_STATUS = {Kind.NOT_FOUND: 404, Kind.FORBIDDEN: 403, Kind.CONFLICT: 409}
IDEMPOTENCY_KEY_REUSED = "idempotency-key-reused"


class Refused(Exception):
    """A request answered with an error status, a reason, (when there is one) a stable code, and any
    further fields of the service's Problem body (`details`)."""

    def __init__(
        self, status: int, reason: str, code: str | None = None, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.code = code
        self.details = dict(details or {})


async def refused_response(_: Request, exc: Exception) -> JSONResponse:
    """The exception handler for Refused: a shared.service.command_api.Problem body (plus its details)."""
    assert isinstance(exc, Refused)
    return JSONResponse({"detail": exc.reason, "code": exc.code, **exc.details}, status_code=exc.status)


def refused(rejection: Rejection, kinds: Mapping[str, Kind], details: Mapping[str, Any] | None = None) -> Refused:
    """The HTTP refusal of a domain refusal, by the kind of its code (409 for a code of no known kind)."""
    kind = kinds.get(rejection.code, Kind.CONFLICT)
    return Refused(HTTP_STATUS[kind], rejection.reason, rejection.code, details)


def build(command_type: type[C], body: BaseModel | None = None, **fields: Any) -> C:
    """The command from the request; a body the command's own rules refuse (e.g. a range whose start is
    not before its end) is a 422 like any other invalid body, never a 500."""
    values = {**(body.model_dump(exclude_unset=True) if body is not None else {}), **fields}
    try:
        return command_type(**values)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError(jsonable_encoder([{**p, "loc": ("body", *p["loc"])} for p in problems])) from None


def judged(judge: Judge[S], clock: Clock = utc_now) -> Precheck[S]:
    """The pre-check of a service whose handler decides from the state alone: its own decision, now."""

    async def precheck(state: S, command: Command) -> Decision:
        return judge(state, command, clock())

    return precheck


class Admission(Generic[S]):
    """One service's HTTP edge for commands: `kinds` is its `codes.KIND`."""

    def __init__(
        self, gateway: CommandGateway, store: AggregateStore[S], kinds: Mapping[str, Kind], precheck: Precheck[S]
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.kinds = kinds
        self.precheck = precheck

    async def admit(
        self, command: Command, *, correlation_id: str | None, resent_possible: bool
    ) -> tuple[Accepted, Sequence[Event]]:
        """Pre-check `command`, then submit it; the acceptance and the events the pre-check expects.
        Raises Refused. `resent_possible`: the caller chose the command id, so it may be a retry of a
        command already decided, which is answered with its status rather than judged again against the
        state it changed."""
        expected: Sequence[Event] = ()
        if not (resent_possible and await self.gateway.statuses.get(command.command_id) is not None):
            state = (await self.store.load(command.deployment_id)).state
            decision = await self.precheck(state, command)
            if isinstance(decision, Rejection):
                if decision.code in self.kinds:
                    raise refused(decision, self.kinds)
            else:
                expected = decision
            # Any other refusal (decide failed: `internal-error`) is the handler's to record and show.
        return await self.submit(command, correlation_id), expected

    async def submit(self, command: Command, correlation_id: str | None) -> Accepted:
        """Submit without a pre-check; a reused idempotency key is a 409."""
        try:
            return await self.gateway.submit(command, correlation_id=correlation_id)
        except IdempotencyConflict as error:
            raise Refused(409, str(error), IDEMPOTENCY_KEY_REUSED) from None


@dataclasses.dataclass(frozen=True)
class Submission:
    """What every command route takes alike: the caller, the request's headers, and the command id."""

    admission: Admission[Any]
    who: Actor
    response: Response
    idempotency_key: str | None
    correlation_id: str | None
    command_id: str
    """The Idempotency-Key, or a new id."""

    def command(self, command_type: type[C], deployment_id: str, body: BaseModel | None = None, **fields: Any) -> C:
        return build(
            command_type, body, command_id=self.command_id, deployment_id=deployment_id, actor=self.who, **fields
        )

    async def admit(self, command: Command) -> tuple[Accepted, Sequence[Event]]:
        """Pre-check and submit `command` (Admission.admit), and point `Location` at its status."""
        accepted, expected = await self.admission.admit(
            command, correlation_id=self.correlation_id, resent_possible=self.idempotency_key is not None
        )
        self.response.headers["Location"] = accepted.status_url
        return accepted, expected


def submissions(admission: Admission[Any], actor: Callable[..., Actor]) -> Callable[..., Submission]:
    """The FastAPI dependency that gives a command route its Submission."""

    def submission(
        who: Annotated[Actor, Depends(actor)],
        response: Response,
        idempotency_key: IdempotencyKey = None,
        correlation_id: CorrelationId = None,
    ) -> Submission:
        return Submission(admission, who, response, idempotency_key, correlation_id, command_id_from(idempotency_key))

    return submission
