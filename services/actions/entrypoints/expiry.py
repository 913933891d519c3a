"""The change-request expiry sweeper: every `ACTIONS_CHANGE_REQUESTS__SWEEP_INTERVAL_S`, it finds open
change requests past their deadline and submits `ExpireChangeRequest` for each, as the service itself.

The deadline is only read here; the command handler decides the expiry (and refuses it if the request
was closed meanwhile or is not due). The command id derives from the change request id, so several
instances sweeping at once, or a sweep repeated before the first one's command ran, expire a request
once: the same command id runs once.
"""

from __future__ import annotations

from services.actions.adapters.store import DeploymentDocuments
from shared.contract.commands.actions import ExpireChangeRequest
from shared.contract.envelope import derived_id
from shared.contract.messages import Actor
from shared.service.command_api import CommandGateway
from shared.service.commands import Clock, utc_now
from shared.service.logging import get_logger

log = get_logger(__name__)


def expiry_command_id(change_request_id: str) -> str:
    return derived_id(change_request_id, "expire")


class ChangeRequestExpiry:
    def __init__(
        self, documents: DeploymentDocuments, gateway: CommandGateway, *, service: str, clock: Clock = utc_now
    ) -> None:
        self.documents = documents
        self.gateway = gateway
        self.actor = Actor(user=service)
        self.clock = clock

    async def sweep(self) -> int:
        """Submit an expiry for every overdue open request; returns how many were submitted."""
        now = self.clock()
        submitted = 0
        for deployment_id, requests in await self.documents.open_change_requests():
            for request in requests:
                if request.expires_at > now:
                    continue
                command = ExpireChangeRequest(
                    command_id=expiry_command_id(request.id),
                    deployment_id=deployment_id,
                    actor=self.actor,
                    change_request_id=request.id,
                )
                accepted = await self.gateway.submit(command)
                submitted += accepted.status == "accepted"
        if submitted:
            log.info("change requests past their deadline sent to expire", count=submitted)
        return submitted
