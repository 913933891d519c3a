"""The inventory read API against schemathesis with every check (tests/fuzz.py), on the real broker and
database: generated queries (every filter, sort, paging; valid and invalid; any text in `search`) and
path parameters get a documented status with a body of the documented schema, never a server error;
what the document calls invalid is refused, what it calls valid is accepted. Aimed cases name, in turn,
a deployment that exists and one that does not, so both answers of a deployment's paths are exercised."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from shared.contract.events.values import Importance
from tests.fixtures.inventory import RunningService, inventory_shows
from tests.fuzz import TIMEOUT, fuzzed
from tests.support import Publisher, at, created, health_report, package, predictions

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(TIMEOUT),
    # schemathesis's own strategies use `random` (its issue, not this API's)
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]


_aimed = itertools.count()


def aimed(case: Any) -> Any:
    """Alternately the deployment that exists and one that does not: both answers (200, 404) are exercised
    whatever ids schemathesis draws for the cases it leaves alone."""
    if "deployment_id" in (case.path_parameters or {}):
        case.path_parameters["deployment_id"] = "fz-1" if next(_aimed) % 2 == 0 else "fz-missing"
    return case


async def test_generated_requests_get_documented_answers_and_never_a_server_error(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    await publisher.emit(namespace, created("fz-1", label="a[b {x} $y", importance=Importance.HIGH,
                                            model_package=package("pkg-1"), created_by="alice"))  # fmt: skip
    await publisher.emit(namespace, created("fz-2", label="Other", created_by="alice"))
    await publisher.emit(namespace, health_report("fz-1", "drift", "warning"))
    await publisher.emit(namespace, predictions("fz-1", 5, at(10)))
    await inventory_shows(inventory, "fz-1", lambda view: view["predictions"]["total"] == 5)
    sent = await fuzzed(inventory.app, inventory.http, aimed)
    assert {200, 400, 404} <= set(sent), sorted(set(sent))
    assert not [status for status in sent if status >= 500]
