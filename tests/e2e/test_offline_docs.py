"""The API docs and the inventory's page work without internet: every asset they reference is served by
the service itself, and a browser that may reach no other host still renders them."""

from __future__ import annotations

import contextlib
import importlib
import re
from collections.abc import AsyncIterator
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import expect

from services.inventory.bootstrap import create_app as create_inventory
from services.inventory.settings import InventorySettings
from shared.service.serve import settings_of
from tests.e2e.browser import Offline, chromium, on_a_port
from tests.fixtures.infra import isolated
from tests.infra import Infra

SERVICES = ["inventory", "actions", "replacement", "retraining", "trainer"]
REFERENCE = re.compile(r"""(?:src|href|url)\s*[=:(]\s*['"]([^'"]+)['"]""", re.IGNORECASE)
"""src="…", href="…" and the Swagger UI option url: '…' (the OpenAPI document)."""


def references(html: str) -> list[str]:
    return REFERENCE.findall(html)


@contextlib.asynccontextmanager
async def in_process(service: str) -> AsyncIterator[httpx.AsyncClient]:
    """A service's app with its default settings, without its lifespan: the docs need neither Kafka nor
    the database."""
    module = importlib.import_module(f"services.{service}.bootstrap")
    app: FastAPI = module.create_app(settings_of(service))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as http:
        yield http
    await app.state.runtime.mongo.close()


@pytest.fixture(params=SERVICES)
async def service_http(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(request.param) as http:
        yield http


async def test_docs_reference_only_assets_the_service_serves(service_http: httpx.AsyncClient) -> None:
    page = await service_http.get("/docs")
    assert page.status_code == 200
    found = references(page.text)
    assert any(ref.endswith(".js") for ref in found), found
    assert any(ref.endswith(".css") for ref in found), found
    outside = [ref for ref in found if urlsplit(urljoin("http://service/docs", ref)).netloc != "service"]
    assert outside == [], f"/docs loads assets from outside the service: {outside}"
    assert not re.search(r"https?://(?!www\.w3\.org/)", page.text), "an absolute URL in /docs"
    for ref in found:
        asset = await service_http.get(urljoin("http://service/docs", ref))
        assert asset.status_code == 200, (ref, asset.status_code)
        assert asset.content, ref
    # ReDoc would load its script from a CDN: it is not offered.
    assert (await service_http.get("/redoc")).status_code == 404


@pytest.mark.integration
async def test_page_and_docs_render_with_no_other_host_reachable(infra: Infra, namespace: str) -> None:
    settings = InventorySettings(**isolated(infra, namespace, "docs"))
    app = create_inventory(settings)
    offline = Offline()
    async with on_a_port(app, settings) as url, chromium() as browser, offline.context(browser) as context:
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(f"{url}/")
        await expect(page.locator("#count")).to_have_text("0 deployments")
        await expect(page.locator("#tiles .tile").first).to_be_visible()
        # The stylesheet applied (the header bar's colour comes from it).
        assert await page.locator(".topbar").evaluate("node => getComputedStyle(node).display") == "flex"

        await page.goto(f"{url}/docs")
        await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Lifecycle inventory")
        await expect(page.locator(".swagger-ui .opblock-summary-path").first).to_be_visible()
        await expect(page.get_by_text("/deployments/summary", exact=True)).to_be_visible()
    assert offline.blocked == [], f"requests to other hosts: {offline.blocked}"
    assert errors == [], f"uncaught errors in the pages: {errors}"
