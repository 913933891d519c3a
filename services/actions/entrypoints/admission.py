"""Taking an actions command at the HTTP edge: the shared admission (shared.service.admission: the
pre-check by the handler's own decision, then 202), answered with the change request it is expected to
open, if any.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.actions.domain import codes
from services.actions.domain.state import DeploymentState
from shared.contract import events as ev
from shared.contract.messages import Event
from shared.service.admission import Admission, Judge, judged
from shared.service.command_api import Accepted, CommandGateway
from shared.storage.aggregates import AggregateStore

ActionsAdmission = Admission[DeploymentState]


def actions_admission(
    gateway: CommandGateway, store: AggregateStore[DeploymentState], judge: Judge[DeploymentState]
) -> ActionsAdmission:
    return Admission(gateway, store, codes.KIND, judged(judge))


class ActionAccepted(Accepted):
    change_request_id: str | None = None
    """Set when the command is expected to open a change request (the deployment's importance needs
    approval): the request to follow at `GET /deployments/{id}/change-requests`. `GET /commands/{id}`
    tells what the command did."""

    @classmethod
    def of(cls, accepted: Accepted, expected: Sequence[Event]) -> ActionAccepted:
        opened = next((e for e in expected if isinstance(e, ev.ChangeRequestOpened)), None)
        return cls(**accepted.model_dump(), change_request_id=opened.change_request_id if opened is not None else None)
