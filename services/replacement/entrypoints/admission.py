"""Taking a replacement command at the HTTP edge: refuse at once what is already known to be refused,
else submit it (202), as the actions service does.

The pre-check is the command handler's own decision (`CommandHandler.decision`, with the catalog
entries the command may need loaded as the handler loads them) against the deployment as the service
knows it now: a refusal becomes 403 / 404 / 409 with its code and reason; a change of model whose
checks fail is refused too (409 `checks-failing`, 403 when the permission check fails), with every
check in the body, and never reaches the log. The handler decides again, in order, when the command
runs: a command refused there (a package registered too late, a race with another replacement) ends
in CommandRejected or ModelReplacementRejected, which `GET /commands/{id}` shows as `rejected`.
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

from services.replacement.domain import codes
from services.replacement.domain.roles import role_of
from services.replacement.domain.state import ReplacementState
from services.replacement.domain.validation import Validation, dry_run
from services.replacement.entrypoints.deciding import BatchDecider, ReplacementDecider, refusal_in
from shared.contract import events as ev
from shared.contract.commands.replacement import ReplacementCommand
from shared.contract.events.values import DeploymentStatus, Role, ValidationCheck, ValidationStatus
from shared.contract.messages import Actor, Command, Event
from shared.domain.decider import Rejection
from shared.service.command_api import Accepted, CommandGateway, IdempotencyConflict
from shared.service.commands import Clock, utc_now
from shared.storage.aggregates import AggregateStore

C = TypeVar("C", bound=Command)
Judge = Callable[[ReplacementState, Command, datetime, ReplacementDecider], Sequence[Event] | Rejection]
"""CommandHandler.decision: the pure decision the handler itself makes."""

HTTP_STATUS = {codes.Kind.NOT_FOUND: 404, codes.Kind.FORBIDDEN: 403, codes.Kind.CONFLICT: 409}
IDEMPOTENCY_KEY_REUSED = "idempotency-key-reused"
SEEING_ROLES = (Role.OWNER, Role.USER)
"""Who may read a deployment's model history and dry-run a replacement (as the inventory: not CONSUMERs)."""


class Refused(Exception):
    """A request answered with an error status, a reason, a stable code, and the checks when they decided."""

    def __init__(
        self, status: int, reason: str, code: str | None = None, checks: dict[str, ValidationCheck] | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.code = code
        self.checks = checks


async def refused_response(_: Request, exc: Exception) -> JSONResponse:
    """The exception handler for Refused: an api_models.ReplacementProblem body."""
    assert isinstance(exc, Refused)
    body: dict[str, Any] = {"detail": exc.reason, "code": exc.code}
    if exc.checks is not None:
        failing = [name for name, check in exc.checks.items() if check.status is ValidationStatus.FAILING]
        body |= {"failing": failing, "checks": jsonable_encoder(exc.checks)}
    return JSONResponse(body, status_code=exc.status)


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
        store: AggregateStore[ReplacementState],
        deciding: BatchDecider,
        judge: Judge,
        clock: Clock = utc_now,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.deciding = deciding
        self.judge = judge
        self.clock = clock

    async def admit(
        self, command: ReplacementCommand, *, correlation_id: str | None, resent_possible: bool
    ) -> tuple[Accepted, Sequence[Event]]:
        """Pre-check `command`, then submit it; the acceptance and the events the pre-check expects.
        Raises Refused. `resent_possible`: the caller chose the command id, so it may be a retry of a
        command already decided, which is answered with its status rather than judged again."""
        expected: Sequence[Event] = ()
        if not (resent_possible and await self.gateway.statuses.get(command.command_id) is not None):
            state = (await self.store.load(command.deployment_id)).state
            decider = await self.deciding.for_commands(state, [command])
            decision = self.judge(state, command, self.clock(), decider)
            if isinstance(decision, Rejection):
                if decision.code in codes.KIND:
                    raise refused(decision)
            elif (refusal := refusal_in(decision)) is not None:
                rejected = next(e for e in decision if isinstance(e, ev.ModelReplacementRejected))
                raise Refused(HTTP_STATUS[codes.KIND[refusal.code]], refusal.reason, refusal.code, rejected.checks)
            else:
                expected = decision
            # Any other refusal (decide failed: `internal-error`) is the handler's to record and show.
        return await self.submit(command, correlation_id), expected

    async def submit(self, command: ReplacementCommand, correlation_id: str | None) -> Accepted:
        try:
            return await self.gateway.submit(command, correlation_id=correlation_id)
        except IdempotencyConflict as error:
            raise Refused(409, str(error), IDEMPOTENCY_KEY_REUSED) from None

    async def visible(self, deployment_id: str, who: Actor) -> ReplacementState:
        """The deployment's state, if `who` may see it (an admin, or an OWNER or USER); else 404, so that
        a deployment one may not see and one that does not exist look the same."""
        state = (await self.store.load(deployment_id)).state
        seen = state.exists and state.status is not DeploymentStatus.ERASED
        if not seen or not (who.admin or role_of(state, who) in SEEING_ROLES):
            raise Refused(404, f"deployment {deployment_id} is not known", codes.NOT_FOUND)
        return state

    async def dry_run(self, deployment_id: str, model_package_id: str, who: Actor) -> Validation:
        """Validate a replacement by `who` without making it (the synchronous answer)."""
        state = await self.visible(deployment_id, who)
        packages = await self.deciding.catalog.packages({model_package_id, *_champion(state)})
        outcome = dry_run(state, model_package_id, who, packages)
        if isinstance(outcome, Rejection):
            raise refused(outcome)
        return outcome


def _champion(state: ReplacementState) -> list[str]:
    return [state.champion.id] if state.champion is not None else []
