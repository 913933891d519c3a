"""Actions settings: `LIFECYCLE_*` shared with every service, `ACTIONS_*` its own (they win)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from pydantic import Field

from shared.contract.events.values import Importance
from shared.service.commands import CommandSettings
from shared.service.settings import Part, ServiceSettings


class ChangeRequestSettings(Part):
    """DataRobot's approval workflow (`ACTIONS_CHANGE_REQUESTS__...`): on a deployment of one of the
    `guarded` importances, deactivate, delete and lowering the importance open a change request that
    another OWNER or an admin must approve before `expire_after` has passed."""

    guarded: frozenset[Importance] = Field(
        default=frozenset({Importance.HIGH, Importance.CRITICAL}),
        description='Importances whose risky actions need approval, as JSON: \'["HIGH", "CRITICAL"]\'; [] for none',
    )
    expire_after: timedelta = Field(
        default=timedelta(days=7),
        gt=timedelta(0),
        description="How long a request waits for review: seconds or ISO 8601 ('P7D', 'PT12H')",
    )
    sweep_interval_s: float = Field(
        default=300.0,
        gt=0,
        description="How often the expiry sweeper looks for overdue requests. On FerretDB each look scans the "
        "deployments collection (one top-level equality), so keep it rare; a request expires at most this late",
    )


class ActionsSettings(ServiceSettings):
    service_env_prefix: ClassVar[str] = "ACTIONS_"
    service_defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "mongo": {"database": "lifecycle_actions"},
        "http": {"port": 8002},
    }

    service_name: str = "actions"
    commands: CommandSettings = CommandSettings()
    change_requests: ChangeRequestSettings = ChangeRequestSettings()
