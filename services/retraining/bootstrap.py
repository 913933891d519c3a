"""Composition root: builds one retraining instance from its settings."""

from __future__ import annotations

from fastapi import FastAPI

from services.retraining.settings import RetrainingSettings
from shared.service.runtime import Runtime, service_app


def create_app(settings: RetrainingSettings | None = None) -> FastAPI:
    settings = settings or RetrainingSettings()
    return service_app(Runtime(settings), title="Lifecycle retraining")
