"""Helpers for the browser tests: a service's app on a real port, and Debian's chromium under Playwright.

Playwright drives the system browser (`infra/chromium.sh install` puts it there; `make test` runs that):
its own browser download (`playwright install`) is never used.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Route, async_playwright, expect

from shared.service.settings import ServiceSettings
from tests.fixtures.infra import listening, started

CHROMIUM = os.getenv("LIFECYCLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

# Playwright's expect waits 5 s by default; the suite runs on 2 shared cores, and a page shows an event
# only after Kafka, the consumer, the database and a poll of the page.
expect.set_options(timeout=15_000)


@contextlib.asynccontextmanager
async def on_a_port(app: FastAPI, settings: ServiceSettings) -> AsyncIterator[str]:
    """The app with its lifespan (`started`, which drops its database after), on a free port; its base URL."""
    async with started(app, settings), listening(app) as base_url:
        yield base_url


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} not found: run `bash infra/chromium.sh install`"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


class Offline:
    """A browser context that aborts every request to a host other than this machine, and records them."""

    def __init__(self) -> None:
        self.blocked: list[str] = []

    async def route(self, route: Route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            await route.continue_()
        else:
            self.blocked.append(route.request.url)
            await route.abort("internetdisconnected")

    @contextlib.asynccontextmanager
    async def context(self, browser: Browser) -> AsyncIterator[BrowserContext]:
        context = await browser.new_context()
        try:
            await context.route("**/*", self.route)
            yield context
        finally:
            await context.close()
