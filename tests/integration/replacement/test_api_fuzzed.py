"""The replacement API against generated requests (schemathesis, from its own OpenAPI document), on the
real broker and database: valid and invalid bodies, path parameters and headers are answered with a
documented status and a body of the documented schema, never a server error. Half the requests name a
deployment and a package that exist, so the 202 and refusal paths are exercised, not only 404s."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.replacement import RunningReplacement, registration
from tests.fuzz import TIMEOUT, fuzzed

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(TIMEOUT),
    # schemathesis's own strategies use `random` (its issue, not this API's)
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]


def aimed(case: Any) -> Any:
    """Point a generated case at the deployment and package that exist."""
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
    sent = await fuzzed(replacement.app, replacement.http, aimed)  # about 7 operations x 2 modes x 10
    assert 202 in sent and 200 in sent and 422 in sent, sorted(set(sent))
    assert not [status for status in sent if status >= 500]
