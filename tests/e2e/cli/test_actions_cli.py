"""`lifecycle` verbs on the actions service, run as an operator runs them (a subprocess) against the real
service on a local port, the real broker and database: each waits for the outcome and tells it in one
block, or answers one line with its exit code (rejected 1, not found 3, timed out 6)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import orjson
import pytest
import pytest_asyncio

from shared.contract.envelope import derived_id
from tests.e2e.cli.runner import Result, lifecycle, listening, only
from tests.fixtures.actions import RunningActions, registered, registration
from tests.infra import Infra
from tests.support import eventually

pytestmark = pytest.mark.integration
D = "dep-1"


@pytest_asyncio.fixture
async def url(actions: RunningActions) -> AsyncIterator[str]:
    async with listening(actions.app) as served:
        yield served


async def cli(infra: Infra, namespace: str, url: str, *args: str, token: str = "admin-token") -> Result:
    """`lifecycle ARGS` as `token`'s holder, with the other command services' URLs on a closed port."""
    return await lifecycle(infra, namespace, *args, urls=only({"actions": url}), env={"LIFECYCLE_CLI_TOKEN": token})


@contextlib.contextmanager
def held(actions: RunningActions) -> Iterator[asyncio.Event]:
    """The service's consumer waits before handling anything until the event is set: commands are
    accepted (202) but not decided meanwhile."""
    consumer = actions.app.state.consumer
    handler = consumer.handler
    release = asyncio.Event()

    async def gated(batch: Sequence[Any]) -> None:
        await release.wait()
        await handler(batch)

    consumer.handler = gated
    try:
        yield release
    finally:
        consumer.handler = handler
        release.set()


async def test_deactivate_waits_for_the_outcome_and_says_what_happened(
    infra: Infra, namespace: str, actions: RunningActions, url: str
) -> None:
    await registered(actions, D)
    result = await cli(infra, namespace, url, "deactivate", D, "--reason", "end of season")
    assert result.code == 0, result.output
    assert result.stdout.strip() == f"deactivated {D}"
    assert len(await actions.events("DeploymentDeactivated")) == 1

    status = (await cli(infra, namespace, url, "activate", D, "--json")).json()
    assert status["status"] == "completed" and status["command_type"] == "ActivateDeployment"
    (activated,) = await actions.events("DeploymentActivated")
    assert status["event_ids"] == [activated.id]


async def test_relabel_share_and_revoke_complete(
    infra: Infra, namespace: str, actions: RunningActions, url: str
) -> None:
    await registered(actions, D)
    relabeled = await cli(infra, namespace, url, "relabel", D, "--label", "Churn v2", "--tag", "team=risk")
    assert relabeled.code == 0 and relabeled.stdout.strip() == f"changed label, tags of {D}", relabeled.output
    (changed,) = await actions.events("DeploymentSettingsChanged")
    assert changed.data["label"] == "Churn v2" and changed.data["tags"] == [{"name": "team", "value": "risk"}]
    shared = await cli(infra, namespace, url, "share", D, "carol", "--role", "user")
    assert shared.stdout.strip() == f"shared {D} with carol as USER", shared.output
    revoked = await cli(infra, namespace, url, "revoke", D, "carol")
    assert revoked.stdout.strip() == f"revoked carol's role on {D}", revoked.output


async def test_a_command_refused_at_the_door_and_one_rejected_when_it_runs_exit_1_with_their_code(
    infra: Infra, namespace: str, actions: RunningActions, url: str
) -> None:
    await registered(actions, D)
    assert (await cli(infra, namespace, url, "deactivate", D)).code == 0
    (await cli(infra, namespace, url, "deactivate", D)).failed(1, "[already-inactive]")

    # Two activations sent before either runs: both pass the door, the second is rejected when it runs.
    with held(actions) as release:
        first = await cli(infra, namespace, url, "activate", D, "--no-wait", "--json")
        assert first.json()["status"] == "accepted"
        second = asyncio.create_task(cli(infra, namespace, url, "activate", D, "--idempotency-key", "second-try"))
        await eventually(lambda: _known(actions, "second-try"))
        release.set()
        rejected = await second
    rejected.failed(1, f"activate {D} rejected", "[already-active]")


async def _known(actions: RunningActions, command_id: str) -> None:
    assert (await actions.get(f"/commands/{command_id}", "admin-token")).status_code == 200


async def test_a_change_request_opened_then_approved_through_the_cli(
    infra: Infra, namespace: str, actions: RunningActions, url: str
) -> None:
    await registered(actions, D, importance="HIGH")
    opened = await cli(infra, namespace, url, "deactivate", D, "--reason", "retire", "--json", token="alice-token")
    change_request_id = derived_id(opened.json()["command_id"], "change-request")
    assert opened.json()["change_request_id"] == change_request_id
    told = await cli(infra, namespace, url, "deactivate", D, token="alice-token")
    told.failed(1, "[change-request-pending]")

    shown = await cli(infra, namespace, url, "change-requests", "list", D, "--json")
    (request,) = shown.json()
    assert (request["id"], request["action"], request["status"]) == (change_request_id, "DeactivateDeployment", "open")
    self_approval = await cli(infra, namespace, url, "approve", D, change_request_id, token="alice-token")
    self_approval.failed(5, "[self-approval]")

    approved = await cli(infra, namespace, url, "approve", D, change_request_id, "--comment", "ok", token="bob-token")
    assert approved.code == 0, approved.output
    assert (
        approved.stdout.strip() == f"approved change request {change_request_id} on {D}: its DeactivateDeployment ran"
    )
    assert len(await actions.events("DeploymentDeactivated")) == 1


async def test_the_opened_change_request_is_told_with_how_to_approve_it(
    infra: Infra, namespace: str, actions: RunningActions, url: str
) -> None:
    await registered(actions, D, importance="CRITICAL")
    told = await cli(infra, namespace, url, "deactivate", D, token="alice-token")
    assert told.code == 0, told.output
    (request,) = (await cli(infra, namespace, url, "change-requests", "list", D, "--json")).json()
    assert told.stdout.splitlines() == [
        f"change request {request['id']} opened on {D}: DeactivateDeployment needs approval by another owner or an "
        "admin",
        f"  approve: lifecycle approve {D} {request['id']}",
        f"  reject:  lifecycle reject {D} {request['id']} --reason …",
    ]
    rejected = await cli(infra, namespace, url, "reject", D, request["id"], "--reason", "not now")
    assert rejected.stdout.strip() == f"rejected change request {request['id']} on {D}", rejected.output
    assert await actions.events("DeploymentDeactivated") == []


async def test_no_outcome_in_time_exits_6_with_the_command_to_check_later(
    infra: Infra, namespace: str, actions: RunningActions, url: str
) -> None:
    await registered(actions, D)
    with held(actions) as release:
        late = await cli(infra, namespace, url, "deactivate", D, "--timeout", "1", "--idempotency-key", "slow-1")
        late.failed(6, "no outcome within 1s", "`lifecycle command slow-1 --service actions`")
        pending = await cli(infra, namespace, url, "command", "slow-1")
        assert pending.code == 0 and "status    accepted" in pending.stdout, pending.output
        release.set()

        async def decided() -> dict[str, Any]:
            status: dict[str, Any] = (await cli(infra, namespace, url, "command", "slow-1", "--json")).json()
            assert status["status"] == "completed", status
            return status

        status = await eventually(decided)
    assert status["service"] == "actions" and status["command_type"] == "DeactivateDeployment"
    # The same invocation sent again (same key) does not run twice: it reports the outcome.
    again = await cli(infra, namespace, url, "deactivate", D, "--idempotency-key", "slow-1")
    assert again.code == 0 and again.stdout.strip() == f"deactivated {D}", again.output
    assert len(await actions.events("DeploymentDeactivated")) == 1


async def test_no_wait_prints_the_accepted_command(
    infra: Infra, namespace: str, actions: RunningActions, url: str
) -> None:
    await registered(actions, D)
    with held(actions):
        result = await cli(infra, namespace, url, "deactivate", D, "--no-wait")
    assert result.code == 0, result.output
    assert result.stdout.startswith(f"accepted: deactivate {D} is command "), result.output
    assert "lifecycle command" in result.stdout


async def test_unknown_deployments_change_requests_and_commands_exit_3(
    infra: Infra, namespace: str, actions: RunningActions, url: str
) -> None:
    await registered(actions, D)
    (await cli(infra, namespace, url, "deactivate", "nope")).failed(3, "nope")
    (await cli(infra, namespace, url, "approve", D, "cr-nope")).failed(3, "cr-nope")
    (await cli(infra, namespace, url, "change-requests", "list", "nope")).failed(3, "nope")
    missing = await cli(infra, namespace, url, "command", "no-such-command")
    missing.failed(3, "no-such-command not found in actions", "(replacement, retraining did not answer)")


async def test_register_from_a_file(
    infra: Infra, namespace: str, actions: RunningActions, url: str, tmp_path: Any
) -> None:
    body = tmp_path / "deployment.json"
    body.write_bytes(orjson.dumps(registration("ignored")))
    result = await cli(infra, namespace, url, "register", str(body), "--id", "dep-file", token="alice-token")
    assert result.code == 0 and result.stdout.strip() == "registered dep-file", result.output
    (created,) = await actions.events("DeploymentCreated")
    assert created.subject == "dep-file"
    (await cli(infra, namespace, url, "register", str(tmp_path / "absent.json"))).failed(2, "absent.json")
