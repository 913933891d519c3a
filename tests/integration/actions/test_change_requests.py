"""Change requests on the real broker and database, with the inventory beside the service: on a HIGH
deployment, deactivate, delete and lowering the importance wait for another OWNER's (or an admin's)
approval; approved, the held command runs; rejected, canceled or expired, it never does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from shared.contract.commands import actions as cmd
from shared.contract.envelope import derived_id
from shared.contract.messages import Actor
from tests.fixtures.actions import (
    RunningActions,
    actions_settings_for,
    registered,
    running_actions,
    sent,
)
from tests.fixtures.inventory import RunningService, inventory_shows
from tests.infra import Infra
from tests.support import Publisher, eventually

pytestmark = pytest.mark.integration
D = "d-high"


async def requested(actions: RunningActions, action: str, body: Any = None, token: str = "alice-token") -> str:
    """Send a guarded command: it completes by opening a change request; the request's id."""
    response = await actions.post(f"/deployments/{D}/{action}", body, token)
    assert response.status_code == 202, response.text
    accepted = response.json()
    status = await actions.settled(accepted["command_id"])
    assert status["status"] == "completed", status
    change_request_id = derived_id(accepted["command_id"], "change-request")
    assert accepted["change_request_id"] == change_request_id
    (opened,) = [e for e in await actions.events("ChangeRequestOpened") if e.id in status["event_ids"]]
    assert opened.data["change_request_id"] == change_request_id
    return change_request_id


async def change_requests(actions: RunningActions, token: str = "carol-token", **params: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = await actions.get(f"/deployments/{D}/change-requests?{query}", token)
    assert response.status_code == 200, response.text
    return list(response.json())


async def review(actions: RunningActions, change_request_id: str, verb: str, token: str, body: Any = None) -> Any:
    return await actions.post(f"/deployments/{D}/change-requests/{change_request_id}/{verb}", body, token)


@pytest_asyncio.fixture
async def high(actions: RunningActions) -> RunningActions:
    """A HIGH deployment owned by alice and bob; carol is a USER of it."""
    await registered(actions, D, importance="HIGH")
    await actions.completed(f"/deployments/{D}/share", {"principal": "carol", "role": "USER"})
    return actions


async def test_an_approved_request_runs_the_held_command(high: RunningActions, inventory: RunningService) -> None:
    actions = high
    request = await requested(actions, "deactivate", {"reason": "retraining tonight"})
    (listed,) = await change_requests(actions)
    assert listed | {"requested_at": None, "expires_at": None} == {
        "id": request,
        "action": "DeactivateDeployment",
        "changes": {"reason": "retraining tonight"},
        "status": "open",
        "requested_by": "alice",
        "requested_at": None,
        "expires_at": None,
        "reason": "retraining tonight",
        "closed_by": None,
        "closed_at": None,
        "comment": "",
    }
    await inventory_shows(inventory, D, lambda v: v["status"] == "active")
    assert (await actions.events("DeploymentDeactivated")) == [], "held, not run"
    # The same request twice is refused while the first is open.
    again = await actions.post(f"/deployments/{D}/deactivate", None)
    assert (again.status_code, again.json()["code"]) == (409, "change-request-pending")

    approved = await review(actions, request, "approve", "bob-token", {"comment": "go ahead"})
    assert approved.status_code == 202, approved.text
    status = await actions.settled(approved.json()["command_id"])
    assert status["status"] == "completed", status
    events = [e for e in await actions.events() if e.id in status["event_ids"]]
    assert [(e.type, e.actor) for e in events] == [("ChangeRequestApproved", "bob"), ("DeploymentDeactivated", "bob")]
    await inventory_shows(inventory, D, lambda v: v["status"] == "inactive")
    (closed,) = await change_requests(actions, status="approved")
    assert (closed["closed_by"], closed["comment"]) == ("bob", "go ahead")
    assert await change_requests(actions, status="open") == []
    late = await review(actions, request, "reject", "admin-token")
    assert (late.status_code, late.json()["code"]) == (409, "change-request-closed")


async def test_the_requester_cannot_approve_their_own_request(
    high: RunningActions, publisher: Publisher, namespace: str
) -> None:
    actions = high
    request = await requested(actions, "delete")
    own = await review(actions, request, "approve", "alice-token")
    assert (own.status_code, own.json()["code"]) == (403, "self-approval")
    user = await review(actions, request, "approve", "carol-token")
    assert (user.status_code, user.json()["code"]) == (403, "forbidden")
    # Over the command topic the handler refuses it the same way.
    command = cmd.ApproveChangeRequest(
        command_id="self-approve", deployment_id=D, actor=Actor(user="alice"), change_request_id=request
    )
    await sent(publisher, namespace, command)
    assert (await actions.settled("self-approve"))["code"] == "self-approval"
    # An admin is another person: it may approve.
    approved = await review(actions, request, "approve", "admin-token")
    assert (await actions.settled(approved.json()["command_id"]))["status"] == "completed"
    assert [e.type for e in await actions.events("DeploymentDeleted")] == ["DeploymentDeleted"]


async def test_a_rejected_request_never_runs(high: RunningActions, inventory: RunningService) -> None:
    actions = high
    raising = await actions.completed(f"/deployments/{D}/importance", {"importance": "CRITICAL"})
    assert [e.type for e in await actions.events() if e.id in raising["event_ids"]] == ["DeploymentImportanceChanged"]
    request = await requested(actions, "importance", {"importance": "LOW", "reason": "demo only"})
    rejected = await review(actions, request, "reject", "bob-token", {"comment": "it serves production"})
    assert (await actions.settled(rejected.json()["command_id"]))["status"] == "completed"
    (closed,) = await change_requests(actions)
    assert (closed["status"], closed["closed_by"], closed["changes"]["importance"]) == ("rejected", "bob", "LOW")
    approve = await review(actions, request, "approve", "admin-token")
    assert (approve.status_code, approve.json()["code"]) == (409, "change-request-closed")
    await inventory_shows(inventory, D, lambda v: v["importance"] == "CRITICAL")
    assert [e.type for e in await actions.events("ChangeRequestRejected", "DeploymentImportanceChanged")] == [
        "DeploymentImportanceChanged",
        "ChangeRequestRejected",
    ]


async def test_only_the_requester_cancels(high: RunningActions) -> None:
    actions = high
    request = await requested(actions, "delete")
    other = await review(actions, request, "cancel", "bob-token")
    assert (other.status_code, other.json()["code"]) == (403, "not-requester")
    canceled = await review(actions, request, "cancel", "alice-token")
    assert (await actions.settled(canceled.json()["command_id"]))["status"] == "completed"
    assert [r["status"] for r in await change_requests(actions)] == ["canceled"]
    assert (await review(actions, "no-such-request", "approve", "bob-token")).status_code == 404


async def test_who_may_read_change_requests(high: RunningActions) -> None:
    actions = high
    assert (await actions.get(f"/deployments/{D}/change-requests", "carol-token")).status_code == 200  # USER
    await actions.completed(f"/deployments/{D}/share", {"principal": "carol", "role": "CONSUMER"})
    refused = await actions.get(f"/deployments/{D}/change-requests", "carol-token")
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert (await actions.get("/deployments/nope/change-requests", "admin-token")).status_code == 404
    assert (await actions.get(f"/deployments/{D}/change-requests?status=shut", "admin-token")).status_code == 422


@pytest_asyncio.fixture
async def quick_expiry(infra: Infra, namespace: str) -> AsyncIterator[RunningActions]:
    """The service with change requests that expire after a second, swept every 0.2 s."""
    settings = actions_settings_for(infra, namespace, change_requests={"expire_after": 1, "sweep_interval_s": 0.2})
    async with running_actions(settings) as service:
        yield service


async def test_an_unreviewed_request_expires_and_never_runs(
    quick_expiry: RunningActions, inventory: RunningService
) -> None:
    actions = quick_expiry
    await registered(actions, D, importance="CRITICAL")
    request = await requested(actions, "deactivate", token="bob-token")

    async def expired() -> dict[str, Any]:
        (listed,) = await change_requests(actions, "admin-token")
        assert listed["status"] == "expired", listed
        return listed

    assert (await eventually(expired, within=15))["closed_by"] is None
    (event,) = await actions.events("ChangeRequestExpired")
    assert (event.data["change_request_id"], event.actor, event.causationid) == (
        request,
        "actions",
        derived_id(request, "expire"),
    )
    late = await review(actions, request, "approve", "alice-token")
    assert (late.status_code, late.json()["code"]) == (409, "change-request-closed")
    await inventory_shows(inventory, D, lambda v: v["status"] == "active")
    assert await actions.events("DeploymentDeactivated") == []
    # Sweeping again finds nothing to expire, so the request expired once.
    assert await actions.app.state.expiry.sweep() == 0


async def test_with_no_guarded_importance_nothing_waits(infra: Infra, namespace: str) -> None:
    settings = actions_settings_for(infra, namespace, change_requests={"guarded": []})
    async with running_actions(settings) as actions:
        await registered(actions, D, importance="CRITICAL")
        response = await actions.post(f"/deployments/{D}/deactivate", None)
        assert response.status_code == 202 and response.json()["change_request_id"] is None, response.text
        status = await actions.settled(response.json()["command_id"])
        assert [e.type for e in await actions.events() if e.id in status["event_ids"]] == ["DeploymentDeactivated"]
