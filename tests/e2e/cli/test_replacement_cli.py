"""`lifecycle validate|replace|rollback|challenger|model-history`, run as an operator runs them (a subprocess)
against the real replacement service on a local port (and the actions service, for a change request):
the dry run prints every check; a change of model waits for its outcome and says what now serves, or
why not (exit 1 with `checks-failing`); on an important deployment it opens a change request that the
actions verbs approve."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from shared.contract.events.values import TargetType
from tests.e2e.cli.runner import Result, lifecycle, listening, only
from tests.fixtures.actions import RunningActions, registered
from tests.fixtures.replacement import CHAMPION_REF, RunningReplacement, registration
from tests.infra import Infra
from tests.support import eventually

pytestmark = pytest.mark.integration
D = "dep-1"


@pytest_asyncio.fixture
async def url(replacement: RunningReplacement) -> AsyncIterator[str]:
    await replacement.register(registration("pkg-2"), registration("pkg-bad", target_type=TargetType.REGRESSION))
    async with listening(replacement.app) as served:
        yield served


async def cli(infra: Infra, namespace: str, urls: dict[str, str], *args: str, token: str = "alice-token") -> Result:
    return await lifecycle(infra, namespace, *args, urls=only(urls), env={"LIFECYCLE_CLI_TOKEN": token})


async def test_validate_prints_every_check_and_exits_1_when_one_fails(
    infra: Infra, namespace: str, replacement: RunningReplacement, url: str
) -> None:
    await replacement.deployment(D)
    passing = await cli(infra, namespace, {"replacement": url}, "validate", D, "pkg-2")
    assert passing.code == 0, passing.output
    head, *checks = passing.stdout.strip().splitlines()
    assert head == f"pkg-2 for {D} (now pkg-1): passing"
    assert len(checks) == 11 and all(line.split()[0] == "PASS" for line in checks), passing.output
    assert "target_type" in passing.stdout

    failing = await cli(infra, namespace, {"replacement": url}, "validate", D, "pkg-bad")
    failing.failed(1, "pkg-bad cannot replace the model", "target_type")
    (target_type,) = [line.split() for line in failing.stdout.splitlines() if "target_type" in line]
    assert target_type[:2] == ["FAIL", "target_type"], failing.output
    assert (await replacement.history(D))["champion"]["id"] == "pkg-1", "a dry run changes nothing"


async def test_replace_refused_by_its_checks_then_replaced_then_rolled_back(
    infra: Infra, namespace: str, replacement: RunningReplacement, url: str
) -> None:
    await replacement.deployment(D)
    urls = {"replacement": url}
    refused = await cli(infra, namespace, urls, "replace", D, "pkg-bad", "--reason", "accuracy")
    refused.failed(1, "[checks-failing]", "target_type")

    replaced = await cli(infra, namespace, urls, "replace", D, "pkg-2", "--reason", "data_drift", "--note", "monday")
    assert replaced.code == 0, replaced.output
    assert replaced.stdout.strip() == f"replaced: pkg-2 now serves {D} (was pkg-1); checks passing"
    history = (await cli(infra, namespace, urls, "model-history", D, "--json")).json()
    assert history["champion"]["id"] == "pkg-2"
    assert (history["history"][-1]["reason"], history["history"][-1]["note"]) == ("DATA_DRIFT", "monday")

    rolled = await cli(infra, namespace, urls, "rollback", D, "--reason", "errors", "--json")
    assert rolled.json()["status"] == "completed" and rolled.json()["command_type"] == "RollbackModel"
    assert (await replacement.history(D))["champion"]["id"] == "pkg-1"
    table = await cli(infra, namespace, urls, "model-history", D)
    assert table.code == 0 and "rolled_back" in table.stdout and "pkg-2" in table.stdout, table.output


async def test_challengers_added_one_removed_one_promoted(
    infra: Infra, namespace: str, replacement: RunningReplacement, url: str
) -> None:
    await replacement.register(registration("pkg-3"))
    await replacement.deployment(D)
    urls = {"replacement": url}
    added = (await cli(infra, namespace, urls, "challenger", "add", D, "pkg-2", "--json")).json()
    challenger_id = added["challenger_id"]
    other = await cli(infra, namespace, urls, "challenger", "add", D, "pkg-3")
    assert other.stdout.startswith("added challenger ") and other.stdout.strip().endswith(f"(pkg-3) to {D}")
    other_id = other.stdout.split()[2]
    removed = await cli(infra, namespace, urls, "challenger", "remove", D, other_id)
    assert removed.stdout.strip() == f"removed challenger {other_id} from {D}", removed.output
    (listed,) = (await cli(infra, namespace, urls, "challenger", "list", D, "--json")).json()
    assert (listed["id"], listed["model_package"]["id"]) == (challenger_id, "pkg-2")

    promoted = await cli(infra, namespace, urls, "challenger", "promote", D, challenger_id, "--reason", "accuracy")
    assert promoted.code == 0, promoted.output
    assert promoted.stdout.strip() == f"promoted: pkg-2 now serves {D} (was pkg-1); checks passing"
    history = await replacement.history(D)
    assert history["champion"]["id"] == "pkg-2" and history["challengers"] == []
    (await cli(infra, namespace, urls, "challenger", "remove", D, challenger_id)).failed(3, "[challenger-unknown]")


async def test_a_replacement_held_for_approval_runs_once_approved_through_the_cli(
    infra: Infra, namespace: str, actions: RunningActions, replacement: RunningReplacement, url: str
) -> None:
    await registered(actions, D, importance="HIGH", model_package=CHAMPION_REF.model_dump(mode="json"))

    async def known() -> None:
        assert (await replacement.history(D))["importance"] == "HIGH"

    await eventually(known)
    async with listening(actions.app) as actions_url:
        urls = {"replacement": url, "actions": actions_url}
        held = await cli(infra, namespace, urls, "replace", D, "pkg-2", "--json")
        change_request_id = held.json()["change_request_id"]
        told = await cli(infra, namespace, urls, "replace", D, "pkg-2", "--idempotency-key", held.json()["command_id"])
        assert told.stdout.split()[:3] == ["change", "request", change_request_id], told.output
        assert f"lifecycle approve {D} {change_request_id}" in " ".join(told.stdout.split()), told.output
        assert (await replacement.history(D))["champion"]["id"] == "pkg-1", "held, not run"

        async def listed() -> None:
            found = await actions.get(f"/deployments/{D}/change-requests", "bob-token")
            assert [r["id"] for r in found.json()] == [change_request_id]

        await eventually(listed)
        approved = await cli(infra, namespace, urls, "approve", D, change_request_id, token="bob-token")
        assert approved.code == 0, approved.output
        follow = approved.stdout.split("`")[1].split()
        assert follow[:2] == ["lifecycle", "command"] and "its ReplaceModel" in approved.stdout, approved.output

        async def ran() -> dict[str, Any]:
            status: dict[str, Any] = (await cli(infra, namespace, urls, *follow[1:], "--json")).json()
            assert status["status"] == "completed", status
            return status

        assert (await eventually(ran))["command_type"] == "ReplaceModel"
    assert (await replacement.history(D))["champion"]["id"] == "pkg-2"


async def test_an_unknown_deployment_or_package_exits_3(
    infra: Infra, namespace: str, replacement: RunningReplacement, url: str
) -> None:
    await replacement.deployment(D)
    urls = {"replacement": url}
    (await cli(infra, namespace, urls, "replace", "nope", "pkg-2")).failed(3, "nope")
    (await cli(infra, namespace, urls, "validate", D, "pkg-unheard-of")).failed(3, "[package-unknown]")
    (await cli(infra, namespace, urls, "model-history", "nope")).failed(3, "nope")
