"""The retraining API against generated requests (schemathesis, from its own OpenAPI document), on the
real broker and database: valid and invalid bodies, path parameters and headers get a documented status
and a body of the documented schema, never a server error. Half the requests name the deployment,
policy and run that exist, so the 202, 200 and refusal paths are exercised, not only 404s; and what the
edge accepted, the handler could run (no batch failed, nothing dead-lettered)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.fixtures.retraining import RunningRetraining
from tests.fuzz import TIMEOUT, counted, fuzzed

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(TIMEOUT),
    # schemathesis's own strategies use `random` (its issue, not this API's)
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]


def aimed_at(known: dict[str, str]) -> Any:
    """Point a generated case at the deployment, policy and run that exist."""

    def aim(case: Any) -> Any:
        for name, value in known.items():
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = value
        return case

    return aim


async def test_generated_requests_get_documented_answers_and_never_a_server_error(
    retraining: RunningRetraining,
) -> None:
    await retraining.configured("d-1")
    policy_id = await retraining.policy("d-1", {"type": "manual"})
    run = await retraining.completed("POST", f"/deployments/d-1/retraining-policies/{policy_id}/runs")
    known = {"deployment_id": "d-1", "policy_id": policy_id, "run_id": run["run_id"]}
    sent = await fuzzed(retraining.app, retraining.http, aimed_at(known))  # about 13 operations x 2 modes x 10
    assert {200, 202, 404, 422} <= set(sent), sorted(set(sent))
    assert not [status for status in sent if status >= 500]
    await asyncio.sleep(1)  # what was accepted last reaches the handler
    app = retraining.app
    assert counted(app, "lifecycle_batch_failures") == counted(app, "lifecycle_events_dead_lettered") == 0
