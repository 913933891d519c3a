"""Composition root: builds one replacement instance from its settings."""

from __future__ import annotations

from fastapi import FastAPI

from services.replacement.settings import ReplacementSettings
from shared.service.runtime import Runtime, service_app


def create_app(settings: ReplacementSettings | None = None) -> FastAPI:
    settings = settings or ReplacementSettings()
    return service_app(Runtime(settings), title="Lifecycle replacement")
