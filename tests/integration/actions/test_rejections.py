"""Refusals, on the real broker and database: what is already known to be refused is answered at once
over HTTP (403 role, 404 unknown, 409 state) with its code and reason and never reaches the log; the
command handler decides the rest, and its refusals (whatever the way in) are CommandRejected events
that `GET /commands/{id}` shows. A command id sent twice runs once."""

from __future__ import annotations

from typing import Any

import pytest

from shared.contract.commands import actions as cmd
from shared.contract.envelope import derived_id
from shared.contract.messages import Actor
from tests.fixtures.actions import RunningActions, registered, sent
from tests.support import Publisher

pytestmark = pytest.mark.integration


async def refused(
    actions: RunningActions, path: str, body: Any = None, token: str = "alice-token"
) -> tuple[int, str, str]:
    response = await actions.post(path, body, token)
    assert response.status_code in (403, 404, 409), response.text
    problem = response.json()
    return response.status_code, problem["code"], problem["detail"]


async def test_what_is_known_to_be_refused_is_answered_at_once_and_never_logged(actions: RunningActions) -> None:
    await registered(actions, "d-1")  # alice and bob own it
    await actions.completed("/deployments/d-1/share", {"principal": "carol", "role": "CONSUMER"})

    assert (await refused(actions, "/deployments/nope/activate"))[:2] == (404, "not-found")
    status, code, reason = await refused(actions, "/deployments/d-1/deactivate", token="carol-token")
    assert (status, code) == (403, "forbidden")
    assert "carol has role CONSUMER" in reason and "needs OWNER" in reason
    assert (await refused(actions, "/deployments/d-1/erase", token="alice-token"))[:2] == (403, "forbidden")
    assert (await refused(actions, "/deployments/d-1/activate"))[:2] == (409, "already-active")
    assert (await refused(actions, "/deployments/d-1/erase", token="admin-token"))[:2] == (409, "not-deleted")
    assert (await refused(actions, "/deployments/d-1/importance", {"importance": "MODERATE"}))[:2] == (
        409,
        "no-change",
    )
    assert (await refused(actions, "/deployments/d-1/revoke", {"principal": "dave"}))[:2] == (409, "not-shared")

    types = [e.type for e in await actions.events()]
    assert types == ["DeploymentCreated", "DeploymentShared"], "a refusal at the edge publishes nothing"


async def test_the_last_owner_can_be_neither_removed_nor_demoted(actions: RunningActions) -> None:
    await registered(actions, "d-1", owners=[])
    status, code, reason = await refused(actions, "/deployments/d-1/revoke", {"principal": "alice"})
    assert (status, code) == (409, "last-owner") and "alice is the last OWNER" in reason
    demote = {"principal": "alice", "role": "USER"}
    assert (await refused(actions, "/deployments/d-1/share", demote))[:2] == (409, "last-owner")

    await actions.completed("/deployments/d-1/share", {"principal": "bob", "role": "OWNER"})
    await actions.completed("/deployments/d-1/share", demote)  # bob owns it now
    assert (await refused(actions, "/deployments/d-1/revoke", {"principal": "bob"}, "bob-token"))[:2] == (
        409,
        "last-owner",
    )


async def test_users_share_up_to_user_and_only_owners_touch_owners(actions: RunningActions) -> None:
    await registered(actions, "d-1", owners=[])
    await actions.completed(
        "/deployments/d-1/share", {"principal": "ml-team", "principal_type": "group", "role": "USER"}
    )
    # bob is a USER through his group: he may share as USER, not as OWNER, and may not deactivate.
    await actions.completed("/deployments/d-1/share", {"principal": "carol", "role": "USER"}, "bob-token")
    owner = {"principal": "carol", "role": "OWNER"}
    assert (await refused(actions, "/deployments/d-1/share", owner, "bob-token"))[:2] == (403, "forbidden")
    assert (await refused(actions, "/deployments/d-1/revoke", {"principal": "alice"}, "bob-token"))[:2] == (
        403,
        "forbidden",
    )
    assert (await refused(actions, "/deployments/d-1/deactivate", token="bob-token"))[:2] == (403, "forbidden")


async def test_a_deleted_deployment_takes_nothing_but_erasure_and_an_erased_one_nothing(
    actions: RunningActions,
) -> None:
    await registered(actions, "d-1")
    await actions.completed("/deployments/d-1/delete")
    for action, body in [
        ("activate", None),
        ("settings", {"label": "x"}),
        ("share", {"principal": "c", "role": "USER"}),
    ]:
        assert (await refused(actions, f"/deployments/d-1/{action}", body))[:2] == (409, "deployment-deleted")
    await actions.completed("/deployments/d-1/erase", token="admin-token")
    assert (await refused(actions, "/deployments/d-1/erase", token="admin-token"))[:2] == (409, "deployment-erased")
    assert (await actions.get("/deployments/d-1/change-requests", "admin-token")).status_code == 404


async def test_the_handler_decides_and_its_refusal_shows_at_the_command_status(
    actions: RunningActions, publisher: Publisher, namespace: str
) -> None:
    await registered(actions, "d-1")
    carol = Actor(user="carol")
    # Over the command topic there is no pre-check: the handler refuses, in order, with the same codes.
    commands = [
        cmd.DeactivateDeployment(command_id="k-carol", deployment_id="d-1", actor=carol),
        cmd.DeactivateDeployment(command_id="k-first", deployment_id="d-1", actor=Actor(user="alice")),
        cmd.DeactivateDeployment(command_id="k-again", deployment_id="d-1", actor=Actor(user="bob")),
        cmd.ActivateDeployment(command_id="k-nope", deployment_id="nope", actor=Actor(user="alice")),
    ]
    for command in commands:
        await sent(publisher, namespace, command)
    outcomes = {c.command_id: await actions.settled(c.command_id) for c in commands}
    assert {i: (o["status"], o["code"]) for i, o in outcomes.items()} == {
        "k-carol": ("rejected", "forbidden"),
        "k-first": ("completed", None),
        "k-again": ("rejected", "already-inactive"),
        "k-nope": ("rejected", "not-found"),
    }
    rejected = await actions.events("CommandRejected")
    assert {(e.data["command_id"], e.data["code"]) for e in rejected} == {
        ("k-carol", "forbidden"),
        ("k-again", "already-inactive"),
        ("k-nope", "not-found"),
    }
    assert all(e.id == derived_id(e.data["command_id"], "0") for e in rejected)
    # Carol sees her own command's outcome, and only hers.
    assert (await actions.get("/commands/k-carol", "carol-token")).json()["reason"].startswith("carol has no role")
    assert (await actions.get("/commands/k-first", "carol-token")).status_code == 404


async def test_a_command_id_sent_twice_runs_once(actions: RunningActions, publisher: Publisher, namespace: str) -> None:
    await registered(actions, "d-1")
    key = {"Idempotency-Key": "deactivate-once"}
    first = await actions.post("/deployments/d-1/deactivate", {"reason": "night"}, headers=key)
    assert first.status_code == 202, first.text
    assert (await actions.settled("deactivate-once"))["status"] == "completed"
    # A retry after the fact is answered with the outcome, not judged again (the deployment is inactive now).
    again = await actions.post("/deployments/d-1/deactivate", {"reason": "night"}, headers=key)
    assert again.status_code == 202, again.text
    assert again.json()["status"] == "completed"
    other = await actions.post("/deployments/d-1/deactivate", {"reason": "another"}, headers=key)
    assert (other.status_code, other.json()["code"]) == (409, "idempotency-key-reused")

    command = cmd.ActivateDeployment(command_id="activate-once", deployment_id="d-1", actor=Actor(user="alice"))
    for _ in range(3):
        await sent(publisher, namespace, command)
    assert (await actions.settled("activate-once"))["status"] == "completed"
    await sent(publisher, namespace, command)  # and once more, after it ran
    replay = await actions.post("/deployments/d-1/activate", None, headers={"Idempotency-Key": "activate-once"})
    assert replay.status_code == 202 and replay.json()["status"] == "completed", replay.text

    types = [e.type for e in await actions.events() if e.type != "DeploymentCreated"]
    assert types == ["DeploymentDeactivated", "DeploymentActivated"]


@pytest.mark.parametrize(
    ("action", "body", "where"),
    [
        ("importance", {"importance": "URGENT"}, "importance"),
        ("importance", {}, "importance"),
        ("importance", None, "body"),
        ("settings", {}, "body"),
        ("settings", {"label": ""}, "label"),
        ("settings", {"description": "x" * 10_001}, "description"),
        ("settings", {"tags": "env"}, "tags"),
        ("share", {"principal": "carol", "role": "ADMIN"}, "role"),
        ("share", {"principal": "acme", "principal_type": "organization", "role": "USER"}, "principal_type"),
        ("share", {"principal": "", "role": "USER"}, "principal"),
        ("revoke", {"principal": "c" * 257}, "principal"),
        ("deactivate", {"reason": "x" * 1_001}, "reason"),
        ("deactivate", {"why": "no"}, "why"),
        ("activate", {"now": True}, "now"),
        ("activate", [1, 2], "body"),
        ("clear-statistics", {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "body"),
        ("clear-statistics", {"start": "2026-01-01T00:00:00"}, "start"),
        ("clear-statistics", {"start": 5}, "start"),
    ],
)
async def test_a_bad_body_is_refused_with_where_and_why(
    actions: RunningActions, action: str, body: Any, where: str
) -> None:
    response = await actions.post(f"/deployments/d-1/{action}", body)
    assert response.status_code == 422, response.text
    assert any(where in map(str, problem["loc"]) for problem in response.json()["detail"]), response.text


async def test_who_may_send_commands(actions: RunningActions) -> None:
    assert (await actions.post("/deployments/d-1/activate", None, token=None)).status_code == 401
    assert (await actions.post("/deployments/d-1/activate", None, token="nobody")).status_code == 401
    response = await actions.post("/deployments/d-1/activate", None, headers={"Idempotency-Key": "no spaces"})
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["detail"]
    assert (await actions.post("/deployments/a%2Fb/activate", None)).status_code in (404, 422)
