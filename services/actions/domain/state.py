"""A deployment as the actions service needs it to decide commands."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from shared.contract.events.values import DeploymentStatus, Importance


class DeploymentState(BaseModel):
    """What the log says about one deployment id; `status` None means nothing yet (the id is free)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    deployment_id: str
    status: DeploymentStatus | None = None
    label: str = ""
    importance: Importance | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    owners: tuple[str, ...] = ()

    @classmethod
    def initial(cls, deployment_id: str) -> DeploymentState:
        return cls(deployment_id=deployment_id)

    @property
    def exists(self) -> bool:
        return self.status is not None
