"""Replacement settings: `LIFECYCLE_*` shared with every service, `REPLACEMENT_*` its own (they win)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from shared.contract.events.values import Importance
from shared.service.commands import CommandSettings
from shared.service.settings import Part, ServiceSettings


class ChangeRequestSettings(Part):
    """Which deployments need an approved change request before their champion changes
    (`REPLACEMENT_CHANGE_REQUESTS__...`, or `LIFECYCLE_CHANGE_REQUESTS__...` for every service at once):
    keep them equal to the actions service's, which reviews the requests and expires them."""

    model_config = ConfigDict(extra="ignore")  # the actions service's sweeper settings may be set for all

    guarded: frozenset[Importance] = Field(
        default=frozenset({Importance.HIGH, Importance.CRITICAL}),
        description='Importances whose model changes need approval, as JSON: \'["HIGH", "CRITICAL"]\'; [] for none',
    )
    expire_after: timedelta = Field(
        default=timedelta(days=7),
        gt=timedelta(0),
        description="How long a request waits for review: seconds or ISO 8601 ('P7D', 'PT12H')",
    )


class ReplacementSettings(ServiceSettings):
    service_env_prefix: ClassVar[str] = "REPLACEMENT_"
    service_defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "mongo": {"database": "lifecycle_replacement"},
        "http": {"port": 8003},
    }

    service_name: str = "replacement"
    commands: CommandSettings = CommandSettings()
    change_requests: ChangeRequestSettings = ChangeRequestSettings()

    @property
    def catalog_group_id(self) -> str:
        """The package catalog's consumer group (the registry stream), apart from the command handler's."""
        return f"{self.group_id}.packages"
