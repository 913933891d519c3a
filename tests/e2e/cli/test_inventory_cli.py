"""`lifecycle deployments list|show` and `lifecycle summary` against the real inventory on a local port:
the filters and sort reach the API, tables by default, `--json` the API's own JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from shared.contract import events as ev
from shared.contract.events.values import Importance
from tests.e2e.cli.runner import Result, lifecycle, listening
from tests.fixtures.inventory import RunningService, inventory_shows
from tests.infra import Infra
from tests.support import Publisher, at, created, health_report, package, predictions

pytestmark = pytest.mark.integration

TIME_RELATIVE = ("model_age_days", "predictions_last_7_days")
"""Counted back from the moment of reading: the CLI's read and the test's read are a moment apart."""


@pytest_asyncio.fixture
async def url(inventory: RunningService) -> AsyncIterator[str]:
    async with listening(inventory.app) as served:
        yield served


async def cli(infra: Infra, namespace: str, url: str, *args: str) -> Result:
    return await lifecycle(infra, namespace, *args, urls={"inventory": url})


async def fleet(publisher: Publisher, namespace: str, inventory: RunningService) -> None:
    """Three deployments that differ in importance, status, drift health, predictions and owner."""
    await publisher.emit(namespace, created("inv-a", label="Alpha churn", owners=("bob",)), time=at(0))
    await publisher.emit(namespace, created("inv-b", label="Beta fraud", importance=Importance.HIGH), time=at(1))
    await publisher.emit(namespace, created("inv-c", label="Gamma churn", importance=Importance.LOW), time=at(2))
    await publisher.emit(namespace, health_report("inv-b", "drift", "failing", message="age drifts"), time=at(3))
    await publisher.emit(namespace, predictions("inv-c", 42, at(4)), time=at(4))
    await publisher.emit(namespace, ev.DeploymentDeactivated(deployment_id="inv-c"), time=at(5))
    replaced = ev.ModelReplaced(deployment_id="inv-a", model_package=package("pkg-2"), reason="ACCURACY")
    await publisher.emit(namespace, replaced, time=at(6))
    await inventory_shows(inventory, "inv-a", lambda d: d["model_package"]["id"] == "pkg-2")
    await inventory_shows(inventory, "inv-b", lambda d: d["health"]["drift"]["status"] == "failing")
    await inventory_shows(inventory, "inv-c", lambda d: d["status"] == "inactive" and d["predictions"]["total"] == 42)


def ids(result: Result) -> list[str]:
    return [d["id"] for d in result.json()["data"]]


async def test_list_passes_every_kind_of_filter_and_the_sort_to_the_inventory(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra, url: str
) -> None:
    await fleet(publisher, namespace, inventory)

    assert ids(await cli(infra, namespace, url, "deployments", "list", "--json")) == ["inv-a", "inv-b", "inv-c"]
    by_importance = await cli(infra, namespace, url, "deployments", "list", "--sort", "-importance", "--json")
    assert ids(by_importance) == ["inv-b", "inv-a", "inv-c"]
    cases: list[tuple[list[str], list[str]]] = [
        (["--search", "churn"], ["inv-a", "inv-c"]),
        (["--status", "inactive"], ["inv-c"]),
        (["--status", "ACTIVE,inactive", "--importance", "low", "--importance", "HIGH"], ["inv-b", "inv-c"]),
        (["--drift-health", "failing"], ["inv-b"]),
        (["--service-health", "unknown", "--owner", "bob"], ["inv-a"]),
        (["--target-type", "binary", "--platform", "aws", "--created-by", "alice"], ["inv-a", "inv-b", "inv-c"]),
        (["--created-after", "2026-11-01T12:01:00Z", "--created-before", "2026-11-01T12:02:00+00:00"], ["inv-b"]),
        (["--last-prediction-after", "2026-11-01T12:03:00Z"], ["inv-c"]),
        (["--sort", "-predictions", "--limit", "1"], ["inv-c"]),
        (["--sort", "label", "--limit", "1", "--offset", "1"], ["inv-b"]),
    ]
    for options, expected in cases:
        assert ids(await cli(infra, namespace, url, "deployments", "list", *options, "--json")) == expected, options

    page = (await cli(infra, namespace, url, "deployments", "list", "--limit", "2", "--json")).json()
    assert (page["count"], page["next_offset"], page["limit"]) == (3, 2, 2)
    table = await cli(infra, namespace, url, "deployments", "list", "--drift-health", "failing,warning")
    assert table.code == 0, table.output
    assert "1 deployments" in table.stdout and "Beta fraud" in table.stdout and "failing" in table.stdout
    assert "Alpha churn" not in table.stdout


async def test_list_refuses_a_value_that_is_not_a_choice_before_asking(
    inventory: RunningService, namespace: str, infra: Infra, url: str
) -> None:
    refused = await cli(infra, namespace, url, "deployments", "list", "--status", "deleted")
    assert refused.code == 2, refused.output
    assert "'deleted' is not one of launching, active, inactive, errored" in refused.stderr
    assert refused.stderr.count("\n") == 1 and not refused.stdout


async def test_show_prints_the_deployment_and_its_model_history(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra, url: str
) -> None:
    await fleet(publisher, namespace, inventory)

    shown = await cli(infra, namespace, url, "deployments", "show", "inv-a", "--json")
    live = (await inventory.get("/deployments/inv-a")).json()
    assert without(shown.json(), TIME_RELATIVE) == without(live, TIME_RELATIVE)
    card = await cli(infra, namespace, url, "deployments", "show", "inv-a")
    assert card.code == 0, card.output
    for fragment in ("Alpha churn", "model pkg-2 (pkg-2, Binary)", "alice, bob", "deployed", "replaced", "ACCURACY"):
        assert fragment in card.stdout, card.stdout
    drifting = await cli(infra, namespace, url, "deployments", "show", "inv-b")
    assert "failing" in drifting.stdout and "age drifts" in drifting.stdout and "HIGH" in drifting.stdout


async def test_summary_shows_the_tiles(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra, url: str
) -> None:
    await fleet(publisher, namespace, inventory)

    tiles = (await cli(infra, namespace, url, "summary", "--json")).json()
    assert tiles == (await inventory.get("/deployments/summary")).json()
    assert (tiles["active_deployments"], tiles["inactive_deployments"], tiles["drift"]["failing"]) == (2, 1, 1)
    table = await cli(infra, namespace, url, "summary")
    assert table.code == 0, table.output
    assert "active 2" in table.stdout and "predictions 42" in table.stdout and "drift" in table.stdout


def without(body: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name not in fields}
