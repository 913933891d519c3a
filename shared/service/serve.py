"""Runs a service's app factory under uvicorn on the host and port from its settings."""

from __future__ import annotations

import uvicorn

from shared.service.settings import ServiceSettings


def serve(factory: str, settings: ServiceSettings) -> None:
    uvicorn.run(factory, factory=True, host=settings.http.host, port=settings.http.port, log_level="warning")
