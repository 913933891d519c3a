"""Actions settings: environment variables prefixed ACTIONS_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.service.settings import ServiceSettings


class ActionsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ACTIONS_", extra="ignore")

    service_name: str = "actions"
    mongo_database: str = "lifecycle_actions"
    http_port: int = 8002
