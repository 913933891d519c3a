"""The replacement API against generated requests (schemathesis, from its own OpenAPI document), on the
real broker and database: valid and invalid bodies, path parameters and headers are answered with a
documented status and a body of the documented schema, never a server error. Half the requests name a
deployment and a package that exist, so the 202 and refusal paths are exercised, not only 404s."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import schemathesis
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

from tests.fixtures.replacement import RunningReplacement, registration

pytestmark = [
    pytest.mark.integration,
    # schemathesis's own strategies use `random` (its issue, not this API's)
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

EXAMPLES = 10
"""Per operation and generation mode: the run sends about 7 x 2 x 10 requests."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
TOKEN = {"Authorization": "Bearer alice-token"}


def aimed(case: Any, known: bool) -> Any:
    """Point a generated case at the deployment and package that exist (when `known`)."""
    if not known:
        return case
    if "deployment_id" in (case.path_parameters or {}):
        case.path_parameters["deployment_id"] = "d-1"
    if isinstance(case.body, dict) and "model_package_id" in case.body:
        case.body["model_package_id"] = "pkg-2"
    return case


async def test_generated_requests_get_documented_answers_and_never_a_server_error(
    replacement: RunningReplacement,
) -> None:
    await replacement.register(registration("pkg-2"))
    await replacement.deployment("d-1")
    schema = schemathesis.openapi.from_dict(replacement.app.openapi())
    loop = asyncio.get_running_loop()
    sent: list[int] = []

    def call(case: Any) -> httpx.Response:
        kwargs = case.as_transport_kwargs(base_url="http://replacement", headers=TOKEN)
        request = replacement.http.request(
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

                @given(case=operation.as_strategy(generation_mode=mode), known=st.booleans())
                @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
                def check(case: Any, known: bool) -> None:
                    case = aimed(case, known)
                    case.validate_response(call(case), checks=CHECKS)

                try:
                    check()
                except Unsatisfiable:
                    assert mode is GenerationMode.NEGATIVE, operation.label  # nothing there to make invalid

    await asyncio.to_thread(fuzz)
    assert 202 in sent and 200 in sent and 422 in sent, sorted(set(sent))
    assert not [status for status in sent if status >= 500]
