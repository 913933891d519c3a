"""Typed settings, nested by concern, read from two environment prefixes.

What every service shares (the broker, the database server, the topic namespace) comes from
`LIFECYCLE_*`; what one service needs differently comes from its own prefix (`INVENTORY_*`, ...),
which wins. Nested fields use `__`: `LIFECYCLE_KAFKA__BOOTSTRAP_SERVERS`, `INVENTORY_HTTP__PORT`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from shared.contract.topology import Topics

SHARED_ENV_PREFIX = "LIFECYCLE_"


class Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KafkaSettings(Part):
    bootstrap_servers: str = "127.0.0.1:9092"
    topic_namespace: str = Field(default="lifecycle", description="Prefix of every topic name")
    topic_partitions: int = Field(default=6, ge=1, description="Partitions of the topics this service creates")


class MongoSettings(Part):
    url: str = "mongodb://127.0.0.1:27017"
    database: str = "lifecycle"


class HttpSettings(Part):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)


class ConsumerSettings(Part):
    group: str = Field(default="", description="Consumer group; <namespace>.<service> when empty")
    batch_max_records: int = Field(default=500, ge=1)
    batch_timeout_ms: int = Field(default=200, ge=1)
    retry_backoff_s: float = Field(default=1.0, ge=0, description="First wait after a transient failure")
    retry_backoff_max_s: float = Field(default=30.0, ge=0, description="Cap of the exponential backoff")
    stalled_after_s: float = Field(default=10.0, gt=0, description="No progress for this long: not ready")
    dedupe_horizon_days: float = Field(default=30, gt=0, description="How long re-published event ids are recognised")


class LogSettings(Part):
    level: str = "INFO"
    json_output: bool = Field(default=True, alias="json")


DEV_ADMIN_TOKEN = "dev-admin-token"
"""The bearer token every service accepts out of the box, for local development only."""


class ApiUser(Part):
    user: str
    groups: tuple[str, ...] = ()
    admin: bool = False


class ServiceSettings(BaseSettings):
    """What every service needs; defaults match the local infrastructure started by `make run`."""

    model_config = SettingsConfigDict(
        env_prefix=SHARED_ENV_PREFIX, env_nested_delimiter="__", extra="ignore", frozen=True
    )
    service_env_prefix: ClassVar[str] = ""
    """The service's own prefix; its variables override the shared ones."""
    service_defaults: ClassVar[dict[str, dict[str, Any]]] = {}
    """The service's own defaults inside nested parts (its port, its database), kept when the
    environment sets another field of the same part."""

    service_name: str = "lifecycle"
    kafka: KafkaSettings = KafkaSettings()
    mongo: MongoSettings = MongoSettings()
    http: HttpSettings = HttpSettings()
    consumer: ConsumerSettings = ConsumerSettings()
    log: LogSettings = LogSettings()
    api_tokens: dict[str, ApiUser] = {DEV_ADMIN_TOKEN: ApiUser(user="admin", admin=True)}
    """Bearer token -> user, as JSON (`LIFECYCLE_API_TOKENS='{"t": {"user": "alice"}}'`)."""

    @model_validator(mode="before")
    @classmethod
    def _service_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for part, defaults in cls.service_defaults.items():
            given = merged.get(part)
            if given is None:
                merged[part] = dict(defaults)
            elif isinstance(given, dict):
                merged[part] = {**defaults, **given}
        return merged

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        own: tuple[PydanticBaseSettingsSource, ...] = ()
        if cls.service_env_prefix:
            own = (EnvSettingsSource(settings_cls, env_prefix=cls.service_env_prefix, env_nested_delimiter="__"),)
        return (init_settings, *own, env_settings, dotenv_settings, file_secret_settings)

    @property
    def topics(self) -> Topics:
        return Topics(self.kafka.topic_namespace)

    @property
    def group_id(self) -> str:
        return self.consumer.group or f"{self.kafka.topic_namespace}.{self.service_name}"
