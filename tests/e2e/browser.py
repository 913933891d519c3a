"""Helpers for the browser tests: a service's app on a real port, and Debian's chromium under Playwright.

Playwright drives the system browser (`infra/chromium.sh install` puts it there; `make test` runs that):
its own browser download (`playwright install`) is never used.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Route, async_playwright, expect

from shared.service.settings import ServiceSettings
from tests.fixtures.infra import started

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
    """The app with its lifespan (`started`), served by uvicorn on a free port of 127.0.0.1; its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # The lifespan runs in `started` (and drops the database after), so uvicorn only serves requests.
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    async with started(app, settings):
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            while not server.started:
                assert not serving.done(), "uvicorn stopped before it started"
                await asyncio.sleep(0.02)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            await asyncio.wait_for(serving, 30)
            sock.close()


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
