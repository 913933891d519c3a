"""The catalog lists every message type once, and a registry missing a type a service consumes
stops that service at start, naming the type."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import pytest

from shared.contract import commands, events
from shared.contract.catalog import ALL_COMMANDS, ALL_EVENTS, build_registry, contract_registry
from shared.contract.messages import Event, Message, MissingMessageTypes
from shared.contract.topology import Stream


def concrete_messages(package: Any) -> set[type[Message]]:
    """Every class with its own type name in the package's modules (bases such as HealthReport have none)."""
    modules = [m for _, m in inspect.getmembers(package, inspect.ismodule) if m.__name__.startswith(package.__name__)]
    return {
        cls
        for module in modules
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Message) and "type_name" in cls.__dict__
    }


def test_every_event_and_command_is_in_the_catalog_once() -> None:
    assert len(set(ALL_EVENTS)) == len(ALL_EVENTS)
    assert len(set(ALL_COMMANDS)) == len(ALL_COMMANDS)
    assert set(ALL_EVENTS) == concrete_messages(events)
    assert set(ALL_COMMANDS) == concrete_messages(commands)
    assert {m.type_name for m in contract_registry()} == {m.type_name for m in (*ALL_EVENTS, *ALL_COMMANDS)}


def test_a_missing_type_stops_the_consumer_at_start_and_names_it() -> None:
    without_drift = [m for m in ALL_EVENTS if m is not events.DriftDetected]
    with pytest.raises(MissingMessageTypes, match=r"inventory cannot start: DriftDetected v1 is not registered"):
        build_registry(*without_drift, required=[events.DriftDetected, events.DeploymentCreated], consumer="inventory")


def test_a_newer_version_than_the_consumer_handles_stops_it_too() -> None:
    class DriftDetectedV2(Event):
        type_name: ClassVar[str] = "DriftDetected"
        version: ClassVar[int] = 2
        stream: ClassVar[Stream] = Stream.MONITORING

    with pytest.raises(MissingMessageTypes, match=r"DriftDetected parses as v2, not the v1 it handles"):
        build_registry(*ALL_EVENTS, DriftDetectedV2, required=[events.DriftDetected], consumer="inventory")


def test_the_inventory_registry_has_every_event_the_inventory_folds() -> None:
    from services.inventory.bootstrap import inventory_registry

    registry = inventory_registry()
    assert events.DeploymentCreated in list(registry)
