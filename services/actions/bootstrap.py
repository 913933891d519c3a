"""Composition root: builds one actions instance from its settings."""

from __future__ import annotations

from fastapi import FastAPI

from services.actions.settings import ActionsSettings
from shared.service.runtime import Runtime, service_app


def create_app(settings: ActionsSettings | None = None) -> FastAPI:
    settings = settings or ActionsSettings()
    return service_app(Runtime(settings), title="Lifecycle actions")
