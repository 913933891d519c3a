"""Runs a service's app factory under uvicorn on the host and port from its settings.

`python -m shared.service.serve port <service>` prints the port a service will listen on, from the
same settings (its defaults and the environment), so scripts never keep their own list of ports.
"""

from __future__ import annotations

import importlib
import inspect
import sys

import uvicorn

from shared.service.settings import ServiceSettings


def serve(factory: str, settings: ServiceSettings) -> None:
    uvicorn.run(factory, factory=True, host=settings.http.host, port=settings.http.port, log_level="warning")


def settings_of(service: str) -> ServiceSettings:
    """The settings a service would start with: the one ServiceSettings class of services.<service>.settings."""
    module = importlib.import_module(f"services.{service}.settings")
    classes = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, ServiceSettings) and cls is not ServiceSettings and cls.__module__ == module.__name__
    ]
    if len(classes) != 1:
        raise LookupError(f"services.{service}.settings defines {len(classes)} ServiceSettings classes, not one")
    return classes[0]()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "port":
        sys.exit("usage: python -m shared.service.serve port <service>")
    print(settings_of(sys.argv[2]).http.port)
