"""The inventory's web page in a real browser (Debian's chromium under Playwright), against the real
inventory on a real port, fed by events published to Kafka: the list, a filter, a sort, a deployment's
page with its model history, and new events showing up without a reload. Also what `/` and `/ui/`
serve, in process."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from services.inventory.bootstrap import create_app
from services.inventory.settings import InventorySettings
from shared.contract import events as ev
from shared.contract.events.values import Importance, ReplacementReason
from shared.service.settings import DEV_ADMIN_TOKEN, ApiUser
from tests.e2e.browser import Offline, chromium, on_a_port
from tests.fixtures.infra import isolated
from tests.infra import Infra
from tests.support import Publisher, at, created, eventually, health_report, package, until_applied

ROWS = "#deployments tbody tr[data-id]"
FAILING_RED = "rgb(180, 35, 24)"


async def rows(page: Page) -> list[str]:
    ids: list[str] = await page.locator(ROWS).evaluate_all("rows => rows.map(row => row.dataset.id)")
    return ids


async def until_rows(page: Page, expected: list[str]) -> None:
    async def check() -> None:
        assert await rows(page) == expected

    await eventually(check, within=15)


@pytest.mark.integration
async def test_list_filter_sort_open_and_live_updates(infra: Infra, namespace: str, publisher: Publisher) -> None:
    # The service's default tokens: the page signs in with the dev token by itself.
    settings = InventorySettings(**isolated(infra, namespace, "web"))
    app = create_app(settings)
    events = [
        created("web-alpha", label="Alpha churn", importance=Importance.CRITICAL),
        created("web-bravo", label="Bravo fraud", importance=Importance.LOW),
        created("web-charlie", label="Charlie credit", importance=Importance.HIGH),
        ev.DeploymentDeactivated(deployment_id="web-bravo"),
        ev.ModelReplaced(
            deployment_id="web-alpha",
            model_package=package("pkg-2", name="churn v2"),
            reason=ReplacementReason.DATA_DRIFT,
            actor="alice",
        ),
        health_report("web-charlie", "drift", "failing"),
    ]
    async with on_a_port(app, settings) as url, chromium() as browser:
        for minute, event in enumerate(events):
            await publisher.emit(namespace, event, time=at(minute))
        await until_applied(app, len(events))
        offline = Offline()
        async with offline.context(browser) as context:
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"{url}/")

            # The list, sorted by label, with its summary tiles and health colours.
            await until_rows(page, ["web-alpha", "web-bravo", "web-charlie"])
            await expect(page.locator("#tiles")).to_contain_text("Deployments")
            await expect(page.locator("#count")).to_have_text("3 deployments")
            failing = page.locator('tr[data-id="web-charlie"] td[data-health="drift"] .health')
            await expect(failing).to_have_text("failing")
            assert await failing.evaluate("node => getComputedStyle(node).color") == FAILING_RED
            await expect(page.locator('tr[data-id="web-alpha"] .badge.importance-critical')).to_have_text("CRITICAL")

            # A filter narrows it; clearing it brings everything back.
            await page.select_option("#f-status", "inactive")
            await until_rows(page, ["web-bravo"])
            assert "status=inactive" in page.url
            await page.select_option("#f-status", "")
            await until_rows(page, ["web-alpha", "web-bravo", "web-charlie"])
            await page.fill("#f-search", "credit")
            await until_rows(page, ["web-charlie"])
            await page.fill("#f-search", "")
            await until_rows(page, ["web-alpha", "web-bravo", "web-charlie"])

            # Sorting changes the order: from the select, and from a column header.
            await page.select_option("#f-sort", "-label")
            await until_rows(page, ["web-charlie", "web-bravo", "web-alpha"])
            await page.get_by_role("button", name="Importance").click()
            await until_rows(page, ["web-bravo", "web-charlie", "web-alpha"])  # LOW, HIGH, CRITICAL

            # A deployment's page: its details and model history.
            await page.get_by_role("link", name="Alpha churn").click()
            await expect(page.locator("#detail-title")).to_have_text("Alpha churn")
            assert page.url.endswith("#/deployments/web-alpha")
            history = page.locator("#model-history tbody tr")
            await expect(history).to_have_count(2)
            await expect(history.first).to_contain_text("churn v2")
            await expect(history.first).to_contain_text("DATA_DRIFT")
            await expect(page.locator("#audit")).to_be_visible()

            # New events show up without a reload: the page keeps a marker a reload would wipe.
            await page.evaluate("window.notReloaded = true")
            await publisher.emit(namespace, ev.DeploymentDeactivated(deployment_id="web-alpha"), time=at(10))
            await expect(page.locator("#detail-body .badges .badge").first).to_have_text("inactive", timeout=15_000)
            await page.go_back()
            await until_rows(page, ["web-bravo", "web-charlie", "web-alpha"])
            await publisher.emit(namespace, created("web-delta", label="Delta demand", importance=Importance.LOW))
            await until_rows(page, ["web-bravo", "web-delta", "web-charlie", "web-alpha"])
            await expect(page.locator("#count")).to_have_text("4 deployments")
            assert await page.evaluate("window.notReloaded") is True

            # Another token is kept in localStorage; an unknown one is reported as such.
            await page.fill("#token", "not-a-token")
            await page.click("#token-form button")
            await expect(page.locator("#error")).to_contain_text("401")
            assert await page.evaluate("localStorage.getItem('lifecycle.inventory.token')") == "not-a-token"

        assert offline.blocked == [], f"the page asked for other hosts: {offline.blocked}"
        assert errors == [], f"uncaught errors in the page: {errors}"


async def page_config(settings: InventorySettings) -> tuple[httpx.Response, dict[str, Any]]:
    """`/` of an inventory app (no lifespan needed: the page is static) and the config written into it."""
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://inventory") as http:
            page = await http.get("/")
            found = re.search(r'<script id="config" type="application/json">(.*?)</script>', page.text)
            assert found, page.text
            return page, json.loads(found.group(1))
    finally:
        await app.state.runtime.mongo.close()


async def test_the_page_offers_the_dev_token_only_while_the_service_accepts_it() -> None:
    dev = InventorySettings(api_tokens={DEV_ADMIN_TOKEN: ApiUser(user="admin", admin=True)})
    page, config = await page_config(dev)
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert config["default_token"] == DEV_ADMIN_TOKEN
    assert "inactive" in config["statuses"]
    assert "-label" not in config["sort_keys"] and "label" in config["sort_keys"]
    _, config = await page_config(InventorySettings(api_tokens={"secret": ApiUser(user="ops", admin=True)}))
    assert config["default_token"] == ""


async def test_only_the_page_files_are_served_under_ui() -> None:
    app = create_app(InventorySettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://inventory") as http:
        for name, kind in [("app.js", "text/javascript"), ("list.js", "text/javascript"), ("style.css", "text/css")]:
            response = await http.get(f"/ui/{name}")
            assert response.status_code == 200, name
            assert response.headers["content-type"].startswith(kind)
        for path in ["/ui/index.html", "/ui/web.py", "/ui/..%2Fweb.py", "/ui/%2e%2e/http.py", "/ui/"]:
            assert (await http.get(path)).status_code == 404, path
    await app.state.runtime.mongo.close()
