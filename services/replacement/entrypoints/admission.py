"""Taking a replacement command at the HTTP edge: refuse at once what is already known to be refused,
else submit it (202), as every service does (shared.service.admission).

The pre-check is the command handler's own decision (`CommandHandler.decision`, with the catalog
entries the command may need loaded as the handler loads them) against the deployment as the service
knows it now: a refusal becomes 403 / 404 / 409 with its code and reason; a change of model whose
checks fail is refused too (409 `checks-failing`, 403 when the permission check fails), with every
check in the body, and never reaches the log. The handler decides again, in order, when the command
runs: a command refused there (a package registered too late, a race with another replacement) ends
in CommandRejected or ModelReplacementRejected, which `GET /commands/{id}` shows as `rejected`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from fastapi.encoders import jsonable_encoder

from services.replacement.domain import codes
from services.replacement.domain.state import ReplacementState
from services.replacement.domain.validation import Validation, dry_run
from services.replacement.entrypoints.deciding import BatchDecider, ReplacementDecider, refusal_in
from shared.contract import events as ev
from shared.contract.commands.replacement import ReplacementCommand
from shared.contract.events.values import DeploymentStatus, Role, ValidationCheck, ValidationStatus
from shared.contract.messages import Actor, Command, Event
from shared.domain.decider import Decision, Rejection
from shared.domain.roles import role_of
from shared.service.admission import Admission, Refused, refused
from shared.service.command_api import CommandGateway
from shared.service.commands import Clock, utc_now
from shared.storage.aggregates import AggregateStore

Judge = Callable[[ReplacementState, Command, datetime, ReplacementDecider], Sequence[Event] | Rejection]
"""CommandHandler.decision: the pure decision the handler itself makes."""

SEEING_ROLES = (Role.OWNER, Role.USER)
"""Who may read a deployment's model history and dry-run a replacement (as the inventory: not CONSUMERs)."""


def checks_body(checks: Mapping[str, ValidationCheck]) -> dict[str, Any]:
    """What an api_models.ReplacementProblem adds to a refusal its checks decided."""
    failing = [name for name, check in checks.items() if check.status is ValidationStatus.FAILING]
    return {"failing": failing, "checks": jsonable_encoder(checks)}


class ReplacementAdmission(Admission[ReplacementState]):
    """The shared admission, with the catalog entries a command may need loaded as the handler loads
    them, a change of model refused by its checks, the dry run and who may read a deployment."""

    def __init__(
        self,
        gateway: CommandGateway,
        store: AggregateStore[ReplacementState],
        deciding: BatchDecider,
        judge: Judge,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(gateway, store, codes.KIND, self._precheck)
        self.deciding = deciding
        self.judge = judge
        self.clock = clock

    async def _precheck(self, state: ReplacementState, command: Command) -> Decision:
        assert isinstance(command, ReplacementCommand)
        decider = await self.deciding.for_commands(state, [command])
        decision = self.judge(state, command, self.clock(), decider)
        if not isinstance(decision, Rejection) and (refusal := refusal_in(decision)) is not None:
            rejected = next(e for e in decision if isinstance(e, ev.ModelReplacementRejected))
            raise refused(refusal, codes.KIND, checks_body(rejected.checks))
        return decision

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
            raise refused(outcome, codes.KIND)
        return outcome


def _champion(state: ReplacementState) -> list[str]:
    return [state.champion.id] if state.champion is not None else []
