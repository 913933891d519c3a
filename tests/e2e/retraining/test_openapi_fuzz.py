"""The retraining API against generated requests (schemathesis, from its own OpenAPI document), on the
real broker and database: valid and invalid bodies, path parameters and headers get a documented status
and a body of the documented schema, never a server error. Half the requests name the deployment,
policy and run that exist, so the 202, 200 and refusal paths are exercised, not only 404s; and what the
edge accepted, the handler could run (no batch failed, nothing dead-lettered)."""

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

from tests.fixtures.retraining import RunningRetraining

pytestmark = [
    pytest.mark.integration,
    # schemathesis's own strategies use `random` (its issue, not this API's)
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

EXAMPLES = 10
"""Per operation and generation mode: about 13 x 2 x 10 requests."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
TOKEN = {"Authorization": "Bearer alice-token"}


def aimed(case: Any, known: dict[str, str] | None) -> Any:
    """Point a generated case at the deployment, policy and run that exist (when `known`)."""
    if known is None:
        return case
    for name, value in known.items():
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = value
    return case


async def test_generated_requests_get_documented_answers_and_never_a_server_error(
    retraining: RunningRetraining,
) -> None:
    await retraining.configured("d-1")
    policy_id = await retraining.policy("d-1", {"type": "manual"})
    run = await retraining.completed("POST", f"/deployments/d-1/retraining-policies/{policy_id}/runs")
    known = {"deployment_id": "d-1", "policy_id": policy_id, "run_id": run["run_id"]}
    schema = schemathesis.openapi.from_dict(retraining.app.openapi())
    loop = asyncio.get_running_loop()
    sent: list[int] = []

    def call(case: Any) -> httpx.Response:
        kwargs = case.as_transport_kwargs(base_url="http://retraining", headers=TOKEN)
        request = retraining.http.request(
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

                @given(case=operation.as_strategy(generation_mode=mode), aim=st.booleans())
                @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
                def check(case: Any, aim: bool) -> None:
                    case = aimed(case, known if aim else None)
                    case.validate_response(call(case), checks=CHECKS)

                try:
                    check()
                except Unsatisfiable:
                    assert mode is GenerationMode.NEGATIVE, operation.label  # nothing there to make invalid

    await asyncio.to_thread(fuzz)
    assert {200, 202, 404, 422} <= set(sent), sorted(set(sent))
    assert not [status for status in sent if status >= 500]
    await asyncio.sleep(1)  # what was accepted last reaches the handler
    assert counted(retraining, "lifecycle_batch_failures") == counted(retraining, "lifecycle_events_dead_lettered") == 0


def counted(retraining: RunningRetraining, metric: str) -> float:
    registry = retraining.app.state.runtime.metrics.registry
    return float(
        sum(s.value for m in registry.collect() if m.name == metric for s in m.samples if s.name.endswith("_total"))
    )
