"""A change of model on an important deployment, end to end with the actions service on the real broker
and database: the replacement opens a change request holding the command; the actions service lists it
and has another OWNER approve it (never the requester); the replacement service then runs the held
command once, against the deployment as it is then. A rejected request never runs."""

from __future__ import annotations

from typing import Any

import pytest

from shared.contract.envelope import derived_id
from tests.fixtures.actions import RunningActions, registered
from tests.fixtures.replacement import CHAMPION_REF, RunningReplacement, registration
from tests.support import eventually

pytestmark = pytest.mark.integration


async def important(actions: RunningActions, replacement: RunningReplacement, deployment_id: str) -> None:
    """A HIGH deployment registered through the actions service (alice and bob own it), known to both."""
    await registered(actions, deployment_id, importance="HIGH", model_package=CHAMPION_REF.model_dump(mode="json"))

    async def known() -> None:
        assert (await replacement.history(deployment_id))["importance"] == "HIGH"

    await eventually(known)


async def requested(actions: RunningActions, deployment_id: str, change_request_id: str) -> dict[str, Any]:
    """The change request as the actions service lists it, once it has it."""

    async def listed() -> dict[str, Any]:
        response = await actions.get(f"/deployments/{deployment_id}/change-requests", "bob-token")
        assert response.status_code == 200, response.text
        found = [r for r in response.json() if r["id"] == change_request_id]
        assert len(found) == 1, response.json()
        return dict(found[0])

    return await eventually(listed)


async def test_an_approved_replacement_runs_once_after_approval(
    actions: RunningActions, replacement: RunningReplacement
) -> None:
    await replacement.register(registration("pkg-2"), registration("pkg-3"))
    await important(actions, replacement, "d-1")
    body = {"model_package_id": "pkg-2", "reason": "DATA_DRIFT", "note": "drift since Monday"}
    answer = await replacement.accepted("POST", "/deployments/d-1/model:replace", body)
    request_id = answer["change_request_id"]
    assert request_id == derived_id(answer["command_id"], "change-request")
    assert (await replacement.settled(answer["command_id"]))["status"] == "completed"
    validated, opened = await replacement.caused_by(answer["command_id"])
    assert (validated.type, validated.data["status"]) == ("ModelReplacementValidated", "passing")
    assert (opened.type, opened.data["command_stream"], opened.data["action"]) == (
        "ChangeRequestOpened", "replacement-commands", "ReplaceModel",
    )  # fmt: skip
    assert (await replacement.history("d-1"))["champion"]["id"] == "pkg-1", "held, not run"
    pending = await replacement.refused("/deployments/d-1/model:replace", {**body, "model_package_id": "pkg-3"})
    assert pending[:2] == (409, "change-request-pending")

    request = await requested(actions, "d-1", request_id)
    assert (request["status"], request["action"], request["requested_by"]) == ("open", "ReplaceModel", "alice")
    assert request["changes"]["model_package_id"] == "pkg-2"
    review = f"/deployments/d-1/change-requests/{request_id}"
    self_approval = await actions.post(f"{review}/approve", None, "alice-token")
    assert (self_approval.status_code, self_approval.json()["code"]) == (403, "self-approval")
    await actions.completed(f"{review}/approve", {"comment": "looks right"}, "bob-token")

    ran = derived_id(request_id, "approved")
    status = await replacement.settled(ran)
    assert (status["status"], status["command_type"], status["deployment_id"]) == ("completed", "ReplaceModel", "d-1")
    (event,) = await replacement.caused_by(ran)
    assert (event.type, event.data["change_request_id"], event.data["actor"]) == ("ModelReplaced", request_id, "alice")
    history = await replacement.history("d-1")
    assert history["champion"]["id"] == "pkg-2"
    last = history["history"][-1]
    assert (last["change_request_id"], last["reason"], last["note"]) == (request_id, "DATA_DRIFT", "drift since Monday")
    (held,) = history["change_requests"]
    assert (held["id"], held["status"], held["ran"]) == (request_id, "approved", True)
    assert len(await replacement.events("ModelReplaced")) == 1, "the held command runs once"


async def test_a_rejected_replacement_never_runs(actions: RunningActions, replacement: RunningReplacement) -> None:
    await replacement.register(registration("pkg-2"))
    await important(actions, replacement, "d-1")
    body = {"model_package_id": "pkg-2", "reason": "ACCURACY"}
    answer = await replacement.accepted("POST", "/deployments/d-1/model:replace", body)
    request_id = answer["change_request_id"]
    await requested(actions, "d-1", request_id)
    await actions.completed(
        f"/deployments/d-1/change-requests/{request_id}/reject", {"comment": "not now"}, "bob-token"
    )

    async def closed() -> None:
        (held,) = (await replacement.history("d-1"))["change_requests"]
        assert (held["status"], held["ran"]) == ("rejected", False)

    await eventually(closed)
    assert (await replacement.history("d-1"))["champion"]["id"] == "pkg-1"
    assert (await replacement.get(f"/commands/{derived_id(request_id, 'approved')}", "admin-token")).status_code == 404
    again = await replacement.accepted("POST", "/deployments/d-1/model:replace", body)
    assert again["change_request_id"] not in (None, request_id), "no longer pending: a new request may open"
