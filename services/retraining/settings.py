"""Retraining settings: `LIFECYCLE_*` shared with every service, `RETRAINING_*` its own (they win)."""

from __future__ import annotations

from typing import Any, ClassVar

from shared.service.settings import ServiceSettings


class RetrainingSettings(ServiceSettings):
    service_env_prefix: ClassVar[str] = "RETRAINING_"
    service_defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "mongo": {"database": "lifecycle_retraining"},
        "http": {"port": 8004},
    }

    service_name: str = "retraining"
