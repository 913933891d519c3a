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
from tools.cli import CliSettings

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[3] / "docker-compose.yml").read_text())
SERVICES: dict[str, type[BaseSettings]] = {
    "inventory": InventorySettings,
    "actions": ActionsSettings,
    "replacement": ReplacementSettings,
    "retraining": RetrainingSettings,
    "demo": CliSettings,
}
REQUIRED = {"kafka_bootstrap_servers", "mongo_url", "http_host", "http_port"}


def environment(service: str) -> dict[str, str]:
    return {key: str(value) for key, value in COMPOSE["services"][service]["environment"].items()}


@pytest.mark.parametrize(("service", "settings_class"), SERVICES.items())
def test_every_variable_is_a_setting_of_that_service(service: str, settings_class: type[BaseSettings]) -> None:
    prefix = str(settings_class.model_config.get("env_prefix", ""))
    fields = set(settings_class.model_fields)
    for key in environment(service):
        assert key.startswith(prefix), f"{service}: {key} lacks the prefix {prefix}"
        assert key.removeprefix(prefix).lower() in fields, f"{service}: {key} is not a setting"


@pytest.mark.parametrize("service", ["inventory", "actions", "replacement", "retraining"])
def test_services_get_what_they_need_and_expose_their_port(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_class = SERVICES[service]
    prefix = str(settings_class.model_config.get("env_prefix"))
    env = environment(service)
    assert {key.removeprefix(prefix).lower() for key in env} >= REQUIRED
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings: Any = settings_class()
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert settings.mongo_url.startswith("mongodb://mongo:")
    assert f"{settings.http_port}:{settings.http_port}" in COMPOSE["services"][service]["ports"]
    assert COMPOSE["services"][service]["command"][-1] == f"services.{service}"


def test_infrastructure_images_are_the_official_ones() -> None:
    assert COMPOSE["services"]["kafka"]["image"].startswith("apache/kafka:4.")
    assert COMPOSE["services"]["mongo"]["image"].startswith("mongo:")
    assert COMPOSE["services"]["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
