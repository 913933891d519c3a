"""Routing that answers as the OpenAPI document says: `405` with an `Allow` that lists every method
the path has, and path parameters that stop at a `:verb` suffix.

Starlette answers a method no route of a path takes with the `Allow` of the first route whose path
matched, though a path's methods are usually spread over several routes (GET and POST of a
collection); and `/runs/{run_id}` also matches `/runs/7:cancel`, so a GET there would be the run
`7:cancel`, and OPTIONS there would advertise GET. `Segment` (`{run_id:segment}`) is a path parameter
without `/` or `:`; `allow_every_method` rewrites a 405's `Allow`.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.routing import Route


class Segment(Convertor[str]):
    """One path segment up to a `:verb` suffix (ids never hold `:` or `/`)."""

    regex = "[^/:]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


SEGMENT = "segment"
"""The convertor's name: `f"/runs/{{run_id:{SEGMENT}}}"`."""
register_url_convertor(SEGMENT, Segment())


def allow_every_method(app: FastAPI) -> None:
    """Answer 405 with every method that some route of the request's path takes."""

    async def handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code != 405:
            return await http_exception_handler(request, exc)
        path = request.url.path
        methods = {
            method
            for route in request.app.routes
            if isinstance(route, Route) and route.methods and route.path_regex.match(path)
            for method in route.methods
        }
        allow = ", ".join(sorted(methods))
        return JSONResponse({"detail": exc.detail}, status_code=405, headers={**(exc.headers or {}), "Allow": allow})

    app.add_exception_handler(HTTPException, handler)
