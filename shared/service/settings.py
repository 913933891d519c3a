"""Typed settings. Each service subclasses ServiceSettings with its own env prefix (INVENTORY_, ...)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.contract.topology import Topics


class ServiceSettings(BaseSettings):
    """What every service needs; defaults match the local infrastructure started by `make run`."""

    model_config = SettingsConfigDict(env_prefix="LIFECYCLE_", extra="ignore")

    service_name: str = "lifecycle"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    mongo_url: str = "mongodb://127.0.0.1:27017"
    mongo_database: str = "lifecycle"
    topic_namespace: str = "lifecycle"
    topic_partitions: int = Field(default=6, ge=1)
    consumer_group: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    batch_max_records: int = Field(default=500, ge=1)
    batch_timeout_ms: int = Field(default=200, ge=1)
    retry_backoff_s: float = Field(default=1.0, ge=0)
    dedupe_horizon_days: float = Field(default=30, gt=0, description="How long re-published event ids are recognised")

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_namespace)

    @property
    def group_id(self) -> str:
        return self.consumer_group or f"{self.topic_namespace}.{self.service_name}"
