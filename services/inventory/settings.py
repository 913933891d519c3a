"""Inventory settings: `LIFECYCLE_*` shared with every service, `INVENTORY_*` its own (they win)."""

from __future__ import annotations

from typing import Any, ClassVar

from shared.service.settings import ServiceSettings


class InventorySettings(ServiceSettings):
    service_env_prefix: ClassVar[str] = "INVENTORY_"
    service_defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "mongo": {"database": "lifecycle_inventory"},
        "http": {"port": 8001},
    }

    service_name: str = "inventory"
