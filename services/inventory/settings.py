"""Inventory settings: environment variables prefixed INVENTORY_."""

from __future__ import annotations

from pydantic import BaseModel
from pydantic_settings import SettingsConfigDict

from shared.service.settings import ServiceSettings


class ApiUser(BaseModel):
    user: str
    groups: tuple[str, ...] = ()
    admin: bool = False


class InventorySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INVENTORY_", extra="ignore")

    service_name: str = "inventory"
    mongo_database: str = "lifecycle_inventory"
    http_port: int = 8001
    api_tokens: dict[str, ApiUser] = {
        "dev-admin-token": ApiUser(user="admin", admin=True),
    }
    """Bearer token -> user, as JSON. The default is for local development only."""
