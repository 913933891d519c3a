"""Taking a retraining command at the HTTP edge: refuse at once what is already known to be refused, else
submit it (202), as every service does (shared.service.admission); and who may read a deployment's retraining.

The pre-check runs the command handler's own pure decision against the deployment as the service knows
it now (one point read by `_id`): a refusal becomes 404 / 403 / 409 with its code and reason, anything
else is submitted. The handler decides again, in order, when the command runs; its refusal is a
CommandRejected that `GET /commands/{id}` shows. The service's internal commands (the scheduler's) are
never taken here.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.retraining.domain import codes
from services.retraining.domain.state import RetrainingState
from shared.contract.commands.retraining import INTERNAL
from shared.contract.events.values import DeploymentStatus, Role
from shared.contract.messages import Actor, Command, Event
from shared.domain.roles import has_role
from shared.service.admission import Admission, Judge, Refused, judged
from shared.service.command_api import Accepted, CommandGateway
from shared.service.commands import Clock, utc_now
from shared.storage.aggregates import AggregateStore

INTERNAL_COMMAND = "internal-command"


class RetrainingAdmission(Admission[RetrainingState]):
    """The shared admission (shared.service.admission), refusing the service's internal commands, and who
    may read a deployment's retraining."""

    def __init__(
        self,
        gateway: CommandGateway,
        store: AggregateStore[RetrainingState],
        judge: Judge[RetrainingState],
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(gateway, store, codes.KIND, judged(judge, clock))

    async def admit(
        self, command: Command, *, correlation_id: str | None, resent_possible: bool
    ) -> tuple[Accepted, Sequence[Event]]:
        if isinstance(command, INTERNAL):
            raise Refused(400, f"{command.type_name} is the retraining service's own command", INTERNAL_COMMAND)
        return await super().admit(command, correlation_id=correlation_id, resent_possible=resent_possible)

    async def visible(self, deployment_id: str, who: Actor) -> RetrainingState:
        """The deployment's state if `who` may see its retraining (an admin, an OWNER or a USER); else 404,
        so that a deployment one may not see and one that does not exist look the same."""
        state = (await self.store.load(deployment_id)).state
        seen = state.exists and state.status is not DeploymentStatus.ERASED
        if not seen or not has_role(state, who, Role.USER):
            raise Refused(404, f"deployment {deployment_id} is not known", codes.NOT_FOUND)
        return state
