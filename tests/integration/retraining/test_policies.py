"""Retraining settings and policies over HTTP and the command topic, on the real broker and database:
every change is an event, refusals come with a code and a reason, the sixth policy is refused."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from shared.contract.commands.retraining import CreateRetrainingPolicy
from shared.contract.envelope import derived_id
from shared.contract.events.retraining import Schedule, Trigger, TriggerType
from shared.contract.messages import Actor
from tests.fixtures.retraining import RunningRetraining
from tests.support import eventually, health_report, until_applied

pytestmark = pytest.mark.integration

DRIFT = {"type": "data_drift_decline", "min_interval_between_runs": "PT6H"}
MANUAL = {"type": "manual"}


async def test_settings_are_shown_to_owners_and_users_and_changed_by_owners_only(
    retraining: RunningRetraining,
) -> None:
    await retraining.deployment("d-1")
    path = "/deployments/d-1/retraining-settings"
    assert await retraining.read(path) == {
        "deployment_id": "d-1",
        "configured": False,
        "retraining_user": None,
        "dataset_id": None,
        "prediction_environment_id": None,
    }

    await retraining.completed("PUT", path, {"retraining_user": "bob", "dataset_id": "/data/churn.csv"})
    shown = await retraining.read(path, "bob-token")
    assert (shown["configured"], shown["retraining_user"], shown["dataset_id"]) == (True, "bob", "/data/churn.csv")
    [changed] = await retraining.published("RetrainingSettingsChanged", count=1)
    assert changed.data["retraining_user"] == "bob" and changed.actor == "alice"

    # carol has no role: reads look like an unknown deployment, commands say why
    assert (await retraining.get(path, "carol-token")).status_code == 404
    status, code, _ = await retraining.refused(
        "PUT", path, {"retraining_user": "carol", "dataset_id": "x"}, "carol-token"
    )
    assert (status, code) == (403, "forbidden")
    status, code, reason = await retraining.refused("PUT", path, {"retraining_user": "carol", "dataset_id": "x"})
    assert (status, code) == (409, "retraining-user-not-owner") and "carol" in reason
    assert (await retraining.get("/deployments/nope/retraining-settings")).status_code == 404
    status, code, _ = await retraining.refused(
        "PUT", "/deployments/nope/retraining-settings", {"retraining_user": "a", "dataset_id": "x"}
    )
    assert (status, code) == (404, "not-found")


async def test_policies_are_created_listed_changed_and_deleted(retraining: RunningRetraining) -> None:
    await retraining.configured("d-1")
    status, code, _ = await retraining.refused(
        "POST", "/deployments/d-1/retraining-policies", {"name": "x", "trigger": MANUAL}, "carol-token"
    )
    assert (status, code) == (403, "forbidden")

    policy_id = await retraining.policy("d-1", DRIFT, name="on drift", model_action="model_replacement")
    listed = await retraining.read("/deployments/d-1/retraining-policies", "bob-token")
    assert listed["limit"] == 5
    [policy] = listed["policies"]
    assert policy["id"] == policy_id and policy["name"] == "on drift"
    assert (
        policy["trigger"]["type"] == "data_drift_decline" and policy["trigger"]["min_interval_between_runs"] == "PT6H"
    )
    assert (policy["model_action"], policy["latest_run"]) == ("model_replacement", None)

    path = f"/deployments/d-1/retraining-policies/{policy_id}"
    await retraining.completed("PATCH", path, {"description": "nightly refit", "model_selection": "same_blueprint"})
    changed = await retraining.read(path)
    assert (changed["name"], changed["description"], changed["model_selection"]) == (
        "on drift",
        "nightly refit",
        "same_blueprint",
    )

    await retraining.completed("DELETE", path)
    assert (await retraining.read("/deployments/d-1/retraining-policies"))["policies"] == []
    assert (await retraining.get(path)).status_code == 404
    status, code, _ = await retraining.refused("PATCH", path, {"name": "again"})
    assert (status, code) == (404, "policy-unknown")
    types = [e.type for e in await retraining.published(count=4)]
    assert types == [
        "RetrainingSettingsChanged",
        "RetrainingPolicyCreated",
        "RetrainingPolicyUpdated",
        "RetrainingPolicyDeleted",
    ]  # the refusals at the edge never reached the log


async def test_a_policy_needs_settings_first_and_a_schedule_that_is_ever_due(retraining: RunningRetraining) -> None:
    await retraining.deployment("d-1")
    status, code, _ = await retraining.refused(
        "POST", "/deployments/d-1/retraining-policies", {"name": "x", "trigger": MANUAL}
    )
    assert (status, code) == (409, "no-retraining-settings")
    await retraining.completed(
        "PUT", "/deployments/d-1/retraining-settings", {"retraining_user": "alice", "dataset_id": "d.csv"}
    )
    never = {"type": "schedule", "schedule": {"day_of_month": [31], "month": [2]}}
    status, code, _ = await retraining.refused(
        "POST", "/deployments/d-1/retraining-policies", {"name": "x", "trigger": never}
    )
    assert (status, code) == (409, "schedule-never-due")


async def test_the_sixth_policy_is_refused_over_http_and_on_the_command_topic(retraining: RunningRetraining) -> None:
    await retraining.configured("d-1")
    for number in range(5):
        await retraining.policy("d-1", MANUAL, name=f"policy {number}")

    status, code, reason = await retraining.refused(
        "POST", "/deployments/d-1/retraining-policies", {"name": "sixth", "trigger": MANUAL}
    )
    assert (status, code) == (409, "policy-limit")
    assert "5 retraining policies already" in reason and "'policy 0'" in reason

    command_id = f"c-{uuid.uuid4().hex}"
    sixth = CreateRetrainingPolicy(
        command_id=command_id,
        deployment_id="d-1",
        actor=Actor(user="alice"),
        name="sixth by topic",
        trigger=Trigger(type=TriggerType.MANUAL),
    )
    await retraining.send(sixth)
    outcome = await retraining.settled(command_id)
    assert (outcome["status"], outcome["code"]) == ("rejected", "policy-limit")
    [rejected] = await retraining.published("CommandRejected", count=1)
    assert rejected.data["command_id"] == command_id and rejected.causationid == command_id
    assert len((await retraining.read("/deployments/d-1/retraining-policies"))["policies"]) == 5
    assert derived_id(command_id, "policy") not in {
        p["id"] for p in (await retraining.read("/deployments/d-1/retraining-policies"))["policies"]
    }


async def test_bad_bodies_are_refused_with_4xx(retraining: RunningRetraining) -> None:
    await retraining.configured("d-1")
    path = "/deployments/d-1/retraining-policies"
    bodies: list[Any] = [
        {"name": "x", "trigger": {"type": "schedule"}},  # a schedule trigger without its schedule
        {"name": "x", "trigger": {"type": "manual", "schedule": {"minute": [0]}}},
        {"name": "x", "trigger": {"type": "schedule", "schedule": {"minute": [60]}}},
        {"name": "x", "trigger": {"type": "manual", "min_interval_between_runs": "P1DT"}},  # not RFC 3339
        {"name": "x", "trigger": {"type": "manual", "min_interval_between_runs": True}},
        {"name": "x", "trigger": {"type": "manual", "min_interval_between_runs": -5}},
        {"name": "x\x00", "trigger": MANUAL},
        {"name": "x", "trigger": MANUAL, "unknown": 1},
        {"name": "", "trigger": MANUAL},
        [],
    ]
    for body in bodies:
        response = await retraining.request("POST", path, body)
        assert response.status_code == 422, (body, response.text)
    response = await retraining.request("PATCH", f"{path}/p-1", {})
    assert response.status_code == 422, response.text
    response = await retraining.request("PUT", "/deployments/d-1/retraining-settings", {"retraining_user": "alice"})
    assert response.status_code == 422, response.text
    response = await retraining.request("POST", f"{path}/p-1/runs", None, token=None)
    assert response.status_code == 401, response.text
    response = await retraining.request(
        "POST", path, {"name": "x", "trigger": MANUAL}, **{"Idempotency-Key": "bad key!"}
    )
    assert response.status_code == 400, response.text


async def test_a_minimum_interval_beyond_the_calendar_never_stops_the_consumer(retraining: RunningRetraining) -> None:
    """The HTTP edge caps the interval at ten years; the command topic takes what the contract allows
    (timedelta's 999,999,999 days), which once overflowed the fold and dead-lettered every later report."""
    await retraining.configured("d-1")
    forever = timedelta(days=999_999_999)
    for trigger in (
        Trigger(type=TriggerType.DATA_DRIFT_DECLINE, status_still_in_decline=True, min_interval_between_runs=forever),
        Trigger(type=TriggerType.SCHEDULE, schedule=Schedule(minute=(30,)), min_interval_between_runs=forever),
    ):
        command_id = f"c-{uuid.uuid4().hex}"
        create = CreateRetrainingPolicy(
            command_id=command_id, deployment_id="d-1", actor=Actor(user="alice"), name=trigger.type, trigger=trigger
        )
        await retraining.send(create)
        assert (await retraining.settled(command_id))["status"] == "completed"
    retraining.clock.advance(timedelta(hours=1))  # the schedule's 12:30 comes: its one run
    for minute, status in enumerate(("warning", "failing", "failing")):
        await retraining.emit(
            health_report("d-1", "drift", status), time=retraining.clock.now + timedelta(minutes=minute)
        )

    async def two_runs_and_no_more() -> None:
        runs = await retraining.runs("d-1")
        assert sorted(r["trigger"] for r in runs) == ["data_drift_decline", "schedule"], runs

    await eventually(two_runs_and_no_more)
    await until_applied(retraining.app, 3, "DriftDetected")
    retraining.clock.advance(timedelta(days=400))
    await retraining.app.state.scheduler.tick()
    await eventually(two_runs_and_no_more)
    assert counted(retraining, "lifecycle_events_dead_lettered") == 0
    assert counted(retraining, "lifecycle_batch_failures") == 0


def counted(retraining: RunningRetraining, metric: str) -> float:
    registry = retraining.app.state.runtime.metrics.registry
    values = [s.value for m in registry.collect() if m.name == metric for s in m.samples if s.name.endswith("_total")]
    return float(sum(values))
