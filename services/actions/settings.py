"""Actions settings: `LIFECYCLE_*` shared with every service, `ACTIONS_*` its own (they win)."""

from __future__ import annotations

from typing import Any, ClassVar

from shared.service.commands import CommandSettings
from shared.service.settings import ServiceSettings


class ActionsSettings(ServiceSettings):
    service_env_prefix: ClassVar[str] = "ACTIONS_"
    service_defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "mongo": {"database": "lifecycle_actions"},
        "http": {"port": 8002},
    }

    service_name: str = "actions"
    commands: CommandSettings = CommandSettings()
