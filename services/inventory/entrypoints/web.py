"""The inventory's web page: `/` serves the page, `/ui/<file>` its script and stylesheet (from web/).

The page is plain HTML, JavaScript and CSS with no build step; it reads the JSON API (`/deployments...`)
with a bearer token and routes in the URL's fragment (`/#/deployments/<id>`), so its addresses never
clash with the API's. The choices it offers (statuses, importances, health values, sort keys) come from
the same enums the API parses, written into the page as JSON when it is served.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from services.inventory.adapters.query import SORT_FIELDS
from services.inventory.domain.access import LISTED_STATUSES
from services.inventory.domain.state import HEALTH_DIMENSIONS
from services.inventory.settings import InventorySettings
from shared.contract.events.values import HealthStatus, Importance
from shared.service.settings import DEV_ADMIN_TOKEN

WEB_DIR = Path(__file__).with_name("web")
ASSETS = {
    **{f"{module}.js": "text/javascript" for module in ("app", "api", "dom", "list", "detail")},
    "style.css": "text/css",
    "favicon.svg": "image/svg+xml",
}
"""The files /ui/ serves, by name: nothing else in the directory (or outside it) is reachable."""

# Everything from this origin, nothing inline but the JSON block (which is data, never run).
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidated on each load, so a new version of the page is picked up at once.
    "Cache-Control": "no-cache",
}


def page_config(settings: InventorySettings) -> dict[str, object]:
    """What the page needs to know before its first request."""
    return {
        # Offered only while the service accepts it (it is for local development).
        "default_token": DEV_ADMIN_TOKEN if DEV_ADMIN_TOKEN in settings.api_tokens else "",
        "statuses": [status.value for status in LISTED_STATUSES],
        "importances": [importance.value for importance in Importance],
        "health_dimensions": list(HEALTH_DIMENSIONS),
        # `unavailable` (accuracy without actuals) is shown, but not offered as a filter, as the API documents.
        "health_statuses": [status.value for status in HealthStatus if status is not HealthStatus.UNAVAILABLE],
        "sort_keys": list(SORT_FIELDS),
    }


def render_index(settings: InventorySettings) -> str:
    template = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    # `<` escaped so that no value can close the script element it sits in.
    config = json.dumps(page_config(settings)).replace("<", "\\u003c")
    return template.replace("{{CONFIG}}", config)


def web_page(settings: InventorySettings) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    index = render_index(settings)

    @router.get("/", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        return HTMLResponse(index, headers=HEADERS)

    @router.get("/ui/{name}")
    async def asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise HTTPException(404, "not found")
        return FileResponse(WEB_DIR / name, media_type=ASSETS[name], headers=HEADERS)

    return router
