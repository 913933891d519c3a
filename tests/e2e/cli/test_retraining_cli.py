"""`lifecycle retraining settings`, `policy create|list|run|delete` and `runs list|show|cancel`, run as an
operator runs them (a subprocess) against the real retraining service on a local port: each command waits
for its outcome and names what it made (the policy id, the run id) and how to follow it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.e2e.cli.runner import Result, lifecycle, listening, only
from tests.fixtures.retraining import RunningRetraining
from tests.infra import Infra

pytestmark = pytest.mark.integration
D = "dep-1"
ID = r"[0-9a-f-]{36}"


@pytest_asyncio.fixture
async def url(retraining: RunningRetraining) -> AsyncIterator[str]:
    await retraining.deployment(D)
    async with listening(retraining.app) as served:
        yield served


async def cli(infra: Infra, namespace: str, url: str, *args: str, token: str = "alice-token") -> Result:
    return await lifecycle(infra, namespace, *args, urls=only({"retraining": url}), env={"LIFECYCLE_CLI_TOKEN": token})


async def test_settings_a_policy_and_a_run_by_hand_reaching_its_run_id(
    infra: Infra, namespace: str, retraining: RunningRetraining, url: str
) -> None:
    no_settings = await cli(infra, namespace, url, "policy", "create", D, "--name", "by hand")
    no_settings.failed(1, "[no-retraining-settings]")
    configured = await cli(infra, namespace, url, "retraining", "settings", D, "--user", "alice", "--dataset", "c.csv")
    assert configured.stdout.strip() == f"retraining settings of {D}: alice retrains on c.csv", configured.output
    shown = (await cli(infra, namespace, url, "retraining", "settings", D, "--json")).json()
    assert (shown["configured"], shown["retraining_user"], shown["dataset_id"]) == (True, "alice", "c.csv")

    created = await cli(infra, namespace, url, "policy", "create", D, "--name", "by hand", "--trigger", "manual")
    assert created.code == 0, created.output
    found = re.fullmatch(
        rf"created policy ({ID}) \(by hand, manual\) on {D}; run it now with `lifecycle policy run "
        rf"{D} \1`",
        " ".join(created.stdout.split()),
    )
    assert found is not None, created.output
    policy_id = found.group(1)

    ran = await cli(infra, namespace, url, "policy", "run", D, policy_id)
    assert ran.code == 0, ran.output
    started = re.fullmatch(
        rf"started run ({ID}) of policy {policy_id} on {D} \((\w+)\); follow it with "
        rf"`lifecycle runs show {D} \1`",
        " ".join(ran.stdout.split()),
    )
    assert started is not None, ran.output
    run_id = started.group(1)
    (run,) = await retraining.runs(D)
    assert (run["id"], run["policy_id"], run["trigger"], run["started_by"]) == (run_id, policy_id, "manual", "alice")
    (listed,) = (await cli(infra, namespace, url, "runs", "list", D, "--json")).json()
    assert (listed["id"], listed["status"]) == (run_id, "running")

    canceled = await cli(infra, namespace, url, "runs", "cancel", D, run_id)
    assert canceled.stdout.strip() == f"canceled run {run_id} of {D}", canceled.output
    assert (await cli(infra, namespace, url, "runs", "show", D, run_id, "--json")).json()["status"] == "canceled"
    (await cli(infra, namespace, url, "runs", "cancel", D, run_id)).failed(1, "[run-finished]")


async def test_a_scheduled_policy_from_cron_fields_then_deleted(
    infra: Infra, namespace: str, retraining: RunningRetraining, url: str
) -> None:
    await retraining.configured(D)
    (
        await cli(
            infra, namespace, url, "policy", "create", D, "--name", "x", "--trigger", "schedule", "--cron", "0 3 * *"
        )
    ).failed(2, "five fields")
    created = await cli(
        infra,
        namespace,
        url,
        "policy",
        "create",
        D,
        "--name",
        "mondays",
        "--trigger",
        "schedule",
        "--cron",
        "0 3 * * 1",
        "--min-interval",
        "6h",
        "--json",
    )
    policy_id = created.json()["policy_id"]
    (policy,) = (await cli(infra, namespace, url, "policy", "list", D, "--json")).json()["policies"]
    assert policy["id"] == policy_id and policy["next_scheduled_at"] is not None
    schedule = policy["trigger"]["schedule"]
    assert (schedule["minute"], schedule["hour"], schedule["day_of_week"], schedule["month"]) == ([0], [3], [1], [])
    assert policy["trigger"]["min_interval_between_runs"] in ("PT6H", 21600.0, 21600)

    deleted = await cli(infra, namespace, url, "policy", "delete", D, policy_id)
    assert deleted.stdout.strip() == f"deleted policy {policy_id} of {D}", deleted.output
    assert (await retraining.read(f"/deployments/{D}/retraining-policies"))["policies"] == []


async def test_unknown_deployments_policies_and_runs_exit_3(
    infra: Infra, namespace: str, retraining: RunningRetraining, url: str
) -> None:
    await retraining.configured(D)
    (await cli(infra, namespace, url, "policy", "run", D, "no-such-policy")).failed(3, "[policy-unknown]")
    (await cli(infra, namespace, url, "runs", "show", D, "no-such-run")).failed(3, "no-such-run")
    (await cli(infra, namespace, url, "policy", "list", "nope")).failed(3, "nope")
