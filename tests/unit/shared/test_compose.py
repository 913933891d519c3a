"""docker-compose.yml cannot run here (no Docker engine), so check it against the settings classes:
every variable a service gets is one of its settings, and the ones it needs are there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from services.actions.settings import ActionsSettings
from services.inventory.settings import InventorySettings
from services.replacement.settings import ReplacementSettings
from services.retraining.settings import RetrainingSettings
from services.trainer.settings import TrainerSettings
from shared.service.settings import SHARED_ENV_PREFIX
from tools.cli.common import CliSettings

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[3] / "docker-compose.yml").read_text())
SERVICES: dict[str, type[BaseSettings]] = {
    "inventory": InventorySettings,
    "actions": ActionsSettings,
    "replacement": ReplacementSettings,
    "retraining": RetrainingSettings,
    "trainer": TrainerSettings,
    "demo": CliSettings,
}
NOT_SETTINGS = {"demo": {"LIFECYCLE_HOME"}}
"""Variables a process reads itself, outside its settings: the demo's home for the dataset it writes."""


def environment(service: str) -> dict[str, str]:
    return {key: str(value) for key, value in COMPOSE["services"][service]["environment"].items()}


def names_a_setting(settings_class: type[BaseSettings], key: str) -> bool:
    """`LIFECYCLE_KAFKA__BOOTSTRAP_SERVERS` or `INVENTORY_HTTP__PORT` -> a (nested) field of the class."""
    prefixes = [SHARED_ENV_PREFIX, getattr(settings_class, "service_env_prefix", "") or SHARED_ENV_PREFIX]
    prefix = next((p for p in prefixes if key.startswith(p)), None)
    if prefix is None:
        return False
    model: Any = settings_class
    for part in key.removeprefix(prefix).lower().split("__"):
        fields = {name: field for name, field in model.model_fields.items()}
        fields |= {field.alias: field for field in model.model_fields.values() if field.alias}
        if part not in fields:
            return False
        model = fields[part].annotation
    return True


@pytest.mark.parametrize(("service", "settings_class"), SERVICES.items())
def test_every_variable_is_a_setting_of_that_service(service: str, settings_class: type[BaseSettings]) -> None:
    for key in environment(service).keys() - NOT_SETTINGS.get(service, set()):
        assert names_a_setting(settings_class, key), f"{service}: {key} is not one of its settings"


@pytest.mark.parametrize("service", ["inventory", "actions", "replacement", "retraining"])
def test_services_get_what_they_need_and_expose_their_port(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in environment(service).items():
        monkeypatch.setenv(key, value)
    settings: Any = SERVICES[service]()
    assert settings.kafka.bootstrap_servers == "kafka:9092"
    assert settings.mongo.url.startswith("mongodb://mongo:")
    assert settings.mongo.database == f"lifecycle_{service}"
    assert settings.http.host == "0.0.0.0"
    assert f"{settings.http.port}:{settings.http.port}" in COMPOSE["services"][service]["ports"]
    assert COMPOSE["services"][service]["command"][-1] == f"services.{service}"


def test_a_service_prefix_overrides_the_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFECYCLE_HTTP__PORT", "9000")
    monkeypatch.setenv("INVENTORY_HTTP__PORT", "9001")
    monkeypatch.setenv("LIFECYCLE_MONGO__URL", "mongodb://elsewhere:1")
    settings = InventorySettings()
    assert settings.http.port == 9001
    assert settings.mongo.url == "mongodb://elsewhere:1"
    assert settings.mongo.database == "lifecycle_inventory", "a service default survives a shared override"
    assert ActionsSettings().http.port == 9000


def test_no_two_services_share_a_port_or_a_database() -> None:
    services = [InventorySettings(), ActionsSettings(), ReplacementSettings(), RetrainingSettings()]
    assert len({s.http.port for s in services}) == len(services)
    assert len({s.mongo.database for s in services}) == len(services)


def test_infrastructure_images_are_the_official_ones() -> None:
    assert COMPOSE["services"]["kafka"]["image"].startswith("apache/kafka:4.")
    assert COMPOSE["services"]["mongo"]["image"].startswith("mongo:")
    assert COMPOSE["services"]["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
