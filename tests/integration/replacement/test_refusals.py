"""Replacements refused, on the real broker and database. Each failing check refuses a replacement: over
HTTP at once (409 `checks-failing`, 403 `forbidden` for the permission check, with every check in the
body) with nothing logged; over the command topic the handler decides it and records the refusal
(`ModelReplacementRejected` with the checks), which `GET /commands/{id}` shows as `rejected`. The
champion never changes. A package the service has not seen registered is refused with a clear reason,
and nothing is half-applied; registered later, the same replacement goes through."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from shared.contract import events as ev
from shared.contract.commands.replacement import ReplaceModel
from shared.contract.events.values import Feature, TargetType
from tests.fixtures.replacement import RunningReplacement, actor_of, registration
from tests.support import eventually

pytestmark = pytest.mark.integration

AGE = Feature(name="age", type="Numeric")


@dataclasses.dataclass(frozen=True)
class Failing:
    check: str
    package: str = "pkg-1"
    changes: dict[str, Any] = dataclasses.field(default_factory=dict)
    token: str = "alice-token"
    deleted: bool = False

    @property
    def deployment_id(self) -> str:
        return f"d-{self.check.replace('_', '-')}"


FAILING = (
    Failing("target_name", "pkg-revenue", {"target_name": "revenue"}),
    Failing("target_type", "pkg-regression", {"target_type": TargetType.REGRESSION, "target_classes": ()}),
    Failing("target_classes", "pkg-maybe", {"target_classes": ("maybe", "no")}),
    Failing("feature_data_types", "pkg-plan-numeric", {"features": (AGE, Feature(name="plan", type="Numeric"))}),
    Failing("features", "pkg-leak", {"features": (AGE, Feature(name="churn", type="Categorical"))}),
    Failing("series_type", "pkg-series", {"series_type": "multiseries"}),
    Failing("not_current_model"),
    Failing("package_ready", "pkg-unready", {"ready": False}),
    Failing("permission", "pkg-2", token="carol-token"),
    Failing("deployment_state", "pkg-2", deleted=True),
)


async def prepared(replacement: RunningReplacement) -> None:
    """Every case's package registered and its deployment (serving pkg-1) announced."""
    packages = {case.package: case.changes for case in FAILING if case.package != "pkg-1"}
    await replacement.register(*(registration(package, **changes) for package, changes in packages.items()))
    for case in FAILING:
        await replacement.deployment(case.deployment_id)
        if case.deleted:
            await replacement.publisher.emit(
                replacement.namespace, ev.DeploymentDeleted(deployment_id=case.deployment_id)
            )

    async def deleted() -> None:
        history = await replacement.history("d-deployment-state")
        assert history["status"] == "deleted"

    await eventually(deleted)


def body_of(case: Failing) -> dict[str, Any]:
    return {"model_package_id": case.package, "reason": "ACCURACY"}


async def test_each_failing_check_refuses_a_replacement_over_http_at_once(replacement: RunningReplacement) -> None:
    await prepared(replacement)
    for case in FAILING:
        path = f"/deployments/{case.deployment_id}/model:replace"
        status, code, problem = await replacement.refused(path, body_of(case), case.token)
        expected = (403, "forbidden") if case.check == "permission" else (409, "checks-failing")
        assert (status, code) == expected, (case, problem)
        assert case.check in problem["failing"], (case, problem)
        assert problem["checks"][case.check]["status"] == "failing"
        assert case.check in problem["detail"] and problem["checks"][case.check]["message"] in problem["detail"]

        dry = await replacement.post(
            f"/deployments/{case.deployment_id}/model:validate", {"model_package_id": case.package}, case.token
        )
        if case.check == "permission":
            assert dry.status_code == 404, "carol may not see the deployment: not even a dry run"
        else:
            assert (dry.json()["status"], dry.json()["checks"][case.check]["status"]) == ("failing", "failing")

    assert await replacement.events("ModelReplaced", "ModelReplacementRejected") == [], "refused at the edge: no log"
    for case in FAILING:
        assert (await replacement.history(case.deployment_id))["champion"]["id"] == "pkg-1"


async def test_each_failing_check_ends_a_replacement_sent_on_the_topic_in_its_rejection(
    replacement: RunningReplacement,
) -> None:
    await prepared(replacement)
    for case in FAILING:
        command = ReplaceModel(
            command_id=f"c-{case.check}",
            deployment_id=case.deployment_id,
            actor=actor_of(case.token),
            model_package_id=case.package,
            reason="ACCURACY",
        )
        await replacement.send(command)
    for case in FAILING:
        status = await replacement.settled(f"c-{case.check}")
        expected = "forbidden" if case.check == "permission" else "checks-failing"
        assert (status["status"], status["code"]) == ("rejected", expected), status
        assert case.check in status["reason"]
        (event,) = await replacement.caused_by(f"c-{case.check}")
        assert event.type == "ModelReplacementRejected" and event.id == status["event_ids"][0]
        assert event.data["checks"][case.check]["status"] == "failing"
        assert (event.data["model_package_id"], event.data["previous_model_package_id"]) == (case.package, "pkg-1")
        assert event.data["replacement_reason"] == "ACCURACY"
        history = await replacement.history(case.deployment_id)
        assert history["champion"]["id"] == "pkg-1" and len(history["history"]) == 1


async def test_a_package_registered_after_the_command_arrives_is_refused_clearly_and_nothing_is_half_applied(
    replacement: RunningReplacement,
) -> None:
    await replacement.deployment("d-1")
    status, code, problem = await replacement.refused(
        "/deployments/d-1/model:replace", {"model_package_id": "pkg-late", "reason": "ACCURACY"}
    )
    assert (status, code) == (404, "package-unknown") and "pkg-late is not registered" in problem["detail"]

    early = ReplaceModel(
        command_id="c-early",
        deployment_id="d-1",
        actor=actor_of("alice-token"),
        model_package_id="pkg-late",
        reason="ACCURACY",
    )
    await replacement.send(early)
    refused = await replacement.settled("c-early")
    assert (refused["status"], refused["code"]) == ("rejected", "package-unknown")
    assert (
        "model package pkg-late is not registered" in refused["reason"]
        and "register it, then try again" in refused["reason"]
    )
    (event,) = await replacement.caused_by("c-early")
    assert (event.type, event.data["code"]) == ("CommandRejected", "package-unknown")
    history = await replacement.history("d-1")
    assert (history["champion"]["id"], len(history["history"])) == ("pkg-1", 1)
    document = await replacement.app.state.store.deployments.collection.find_one({"_id": "d-1"})
    assert document["has_pending"] is False and document["outbox"] == []

    await replacement.register(registration("pkg-late"))
    await replacement.send(early)  # the same command again: it ran once, and stays refused
    assert (await replacement.settled("c-early"))["code"] == "package-unknown"
    again = early.model_copy(update={"command_id": "c-again"})
    await replacement.send(again)
    done = await replacement.settled("c-again")
    assert done["status"] == "completed", done
    assert (await replacement.history("d-1"))["champion"]["id"] == "pkg-late"
    assert [e.type for e in await replacement.caused_by("c-early")] == ["CommandRejected"]


async def test_unknown_deployments_and_unknown_callers_are_refused(replacement: RunningReplacement) -> None:
    await replacement.register(registration("pkg-2"))
    await replacement.deployment("d-1")
    body = {"model_package_id": "pkg-2", "reason": "ACCURACY"}
    assert (await replacement.refused("/deployments/nope/model:replace", body))[:2] == (404, "not-found")
    assert (await replacement.post("/deployments/d-1/model:replace", body, token=None)).status_code == 401
    assert (await replacement.post("/deployments/d-1/model:replace", body, token="nobody")).status_code == 401
    assert (await replacement.get("/deployments/d-1/model-history", "carol-token")).status_code == 404
    for bad in ({}, {"model_package_id": "pkg-2"}, {**body, "reason": "BORED"}, {**body, "extra": 1}, [1], "x"):
        response = await replacement.post("/deployments/d-1/model:replace", bad)
        assert response.status_code == 422, (bad, response.text)
    reused = {"Idempotency-Key": "k-1"}
    assert (await replacement.post("/deployments/d-1/model:replace", body, **reused)).status_code == 202
    other = {"model_package_id": "pkg-2", "reason": "ERRORS"}
    response = await replacement.post("/deployments/d-1/model:replace", other, **reused)
    assert (response.status_code, response.json()["code"]) == (409, "idempotency-key-reused")
    assert (
        await replacement.post("/deployments/d-1/model:replace", body, **{"Idempotency-Key": "bad key"})
    ).status_code == 400
