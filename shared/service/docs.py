"""Swagger UI at /docs from files the service serves itself, so the API docs work without internet.

FastAPI's own /docs page loads Swagger UI's script, stylesheet and favicon from a CDN and is blank
offline. The same page is built here on the assets of the `swagger-ui-bundle-v2` package (a copy of
npm's swagger-ui-dist, version 5, which renders OpenAPI 3.1). ReDoc is not offered: one docs page,
and nothing that points outside the service.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
SWAGGER_UI_DIR = Path(str(swagger_ui_path))


def serve_docs(app: FastAPI) -> None:
    """Add /docs (Swagger UI on the app's OpenAPI document) and its assets under /docs/assets.
    The app must be built with `docs_url=None, redoc_url=None`."""
    app.mount(ASSETS_URL, StaticFiles(directory=SWAGGER_UI_DIR), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon-32x32.png",
            # Bearer tokens only: no OAuth2 flow, so no redirect page.
            oauth2_redirect_url=None,
            swagger_ui_parameters={"persistAuthorization": True},
        )
