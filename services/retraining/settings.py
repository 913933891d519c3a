"""Retraining settings: environment variables prefixed RETRAINING_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.service.settings import ServiceSettings


class RetrainingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETRAINING_", extra="ignore")

    service_name: str = "retraining"
    mongo_database: str = "lifecycle_retraining"
    http_port: int = 8004
