"""Schemathesis over a service's own OpenAPI document, in the test's event loop: the app under test is
called through its in-process HTTP client, the generation runs on a thread (hypothesis is synchronous).

Every operation but the kit's /healthz and /readyz gets valid and invalid requests (bodies, path
parameters, headers); half of them pass through `aim`, which points a case at what the test made exist,
so the 202 and refusal paths are exercised, not only 404s. Each answer must have a documented status,
content type and body, and never be a server error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 10
"""Per operation and generation mode."""


async def fuzzed(
    app: FastAPI,
    http: httpx.AsyncClient,
    aim: Callable[[Any], Any],
    *,
    token: str = "alice-token",
    examples: int = EXAMPLES,
) -> list[int]:
    """Fuzz every operation of `app` through `http`; the statuses it answered, in order."""
    schema = schemathesis.openapi.from_dict(app.openapi())
    loop = asyncio.get_running_loop()
    headers = {"Authorization": f"Bearer {token}"}
    sent: list[int] = []

    def call(case: Any) -> httpx.Response:
        kwargs = case.as_transport_kwargs(base_url=str(http.base_url).rstrip("/"), headers=headers)
        request = http.request(
            kwargs["method"],
            kwargs["url"],
            params=kwargs.get("params"),
            headers=kwargs.get("headers"),
            json=kwargs.get("json"),
            content=kwargs.get("data"),
        )
        response = asyncio.run_coroutine_threadsafe(request, loop).result(timeout=60)
        sent.append(response.status_code)
        return response

    def fuzz() -> None:
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result.err()
            operation = result.ok()
            if "operations" in (operation.tags or []):
                continue  # /healthz and /readyz are the kit's, and take no input
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @given(case=operation.as_strategy(generation_mode=mode), aimed=st.booleans())
                @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
                def check(case: Any, aimed: bool) -> None:
                    case = aim(case) if aimed else case
                    case.validate_response(call(case), checks=CHECKS)

                try:
                    check()
                except Unsatisfiable:
                    assert mode is GenerationMode.NEGATIVE, operation.label  # nothing there to make invalid

    await asyncio.to_thread(fuzz)
    return sent


def counted(app: FastAPI, metric: str) -> float:
    """A counter of the app's metrics registry, over all its labels (e.g. `lifecycle_batch_failures`)."""
    registry = app.state.runtime.metrics.registry
    return float(
        sum(s.value for m in registry.collect() if m.name == metric for s in m.samples if s.name.endswith("_total"))
    )
