"""Replacement settings: `LIFECYCLE_*` shared with every service, `REPLACEMENT_*` its own (they win)."""

from __future__ import annotations

from typing import Any, ClassVar

from shared.service.settings import ServiceSettings


class ReplacementSettings(ServiceSettings):
    service_env_prefix: ClassVar[str] = "REPLACEMENT_"
    service_defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "mongo": {"database": "lifecycle_replacement"},
        "http": {"port": 8003},
    }

    service_name: str = "replacement"
