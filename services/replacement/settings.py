"""Replacement settings: environment variables prefixed REPLACEMENT_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.service.settings import ServiceSettings


class ReplacementSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPLACEMENT_", extra="ignore")

    service_name: str = "replacement"
    mongo_database: str = "lifecycle_replacement"
    http_port: int = 8003
