"""Runs on the real broker and database, with a fake trainer and a fake replacement service played by the
test (events on their topics): a run started by hand asks for training, is canceled while it trains but
not once it replaces the model or has finished, fails when the trainer fails or never answers, and
succeeds when the replacement service answers its ask."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.contract import events as ev
from shared.contract.envelope import derived_id, wrap
from shared.contract.events.values import ReplacementReason
from shared.contract.topology import Stream
from tests.fixtures.retraining import DATASET, RunningRetraining
from tests.support import eventually, package

pytestmark = pytest.mark.integration

MANUAL = {"type": "manual"}


async def started(retraining: RunningRetraining, policy_id: str, token: str = "alice-token") -> str:
    """Run a policy by hand; the run id once it is training."""
    answer = await retraining.completed("POST", f"/deployments/d-1/retraining-policies/{policy_id}/runs", token=token)
    return str(answer["run_id"])


async def on_topic(retraining: RunningRetraining, stream: Stream, type_name: str, run_id: str) -> Any:
    async def there() -> Any:
        found = [e for e in await retraining.topic(stream, type_name) if e.data.get("run_id") == run_id]
        assert len(found) == 1, found
        return found[0]

    return await eventually(there)


async def test_a_run_is_canceled_while_it_trains_and_never_once_finished(retraining: RunningRetraining) -> None:
    await retraining.configured("d-1")
    policy_id = await retraining.policy("d-1", MANUAL, model_action="model_replacement")
    run_id = await started(retraining, policy_id, "bob-token")

    run = await retraining.run("d-1", run_id, step="training", status="running")
    assert (run["trigger"], run["cause"], run["started_by"], run["policy_id"]) == ("manual", "manual", "bob", policy_id)
    request = await on_topic(retraining, Stream.TRAINING_JOBS, "TrainingRequested", run_id)
    assert (request.data["dataset_path"], request.data["target_name"]) == (DATASET, "churn")
    assert request.data["champion_model_package_id"] == "pkg-1"
    assert request.data["deadline"].startswith((retraining.clock.now + timedelta(minutes=10)).isoformat()[:19])

    cancel = f"/deployments/d-1/retraining-runs/{run_id}:cancel"
    answer = await retraining.completed("POST", cancel, token="bob-token")
    assert answer["run_id"] == run_id
    run = await retraining.run("d-1", run_id, status="canceled")
    assert (run["canceled_by"], run["step"], run["finished_at"] is not None) == ("bob", "training", True)
    stop = await on_topic(retraining, Stream.TRAINING_JOBS, "TrainingCanceled", run_id)
    assert "canceled by bob" in stop.data["reason"]

    status, code, reason = await retraining.refused("POST", cancel)
    assert (status, code) == (409, "run-finished") and "canceled" in reason
    status, code, _ = await retraining.refused("POST", "/deployments/d-1/retraining-runs/nope:cancel")
    assert (status, code) == (404, "run-unknown")
    status, code, _ = await retraining.refused("POST", cancel, token="carol-token")
    assert (status, code) == (403, "forbidden")
    steps = [e.data["step"] for e in await retraining.events("RetrainingRunStepChanged")]
    assert steps == ["preparing_data", "training"]


async def test_a_run_replacing_the_model_cannot_be_canceled_and_succeeds_on_the_answer(
    retraining: RunningRetraining,
) -> None:
    await retraining.configured("d-1")
    policy_id = await retraining.policy("d-1", MANUAL, model_action="model_replacement")
    run_id = await started(retraining, policy_id)
    await retraining.run("d-1", run_id, step="training")

    trained = ev.TrainingSucceeded(
        deployment_id="d-1", run_id=run_id, model_package_id="pkg-2", metrics={"roc_auc": 0.91}, estimator_family="rf"
    )
    await retraining.emit(trained, time=retraining.clock.now)
    run = await retraining.run("d-1", run_id, step="replacing_model")
    assert run["model_package_id"] == "pkg-2"
    ask = await eventually(lambda: _one_replace(retraining))
    assert (ask.data["model_package_id"], ask.data["reason"], ask.data["actor"]["user"]) == ("pkg-2", "OTHER", "alice")

    status, code, reason = await retraining.refused("POST", f"/deployments/d-1/retraining-runs/{run_id}:cancel")
    assert (status, code) == (409, "run-past-cancel-point") and "replacing model" in reason

    # the replacement service's answer to exactly that ask
    replaced = ev.ModelReplaced(
        deployment_id="d-1",
        model_package=package("pkg-2"),
        reason=ReplacementReason.OTHER,
        previous_model_package_id="pkg-1",
    )
    envelope = wrap(replaced, source="replacement", time=retraining.clock.now, causation_id=ask.id)
    await retraining.publisher.send_envelope(retraining.namespace, envelope, replaced)
    run = await retraining.run("d-1", run_id, status="succeeded")
    assert (run["model_package_id"], run["metrics"], run["duration_s"]) == ("pkg-2", {"roc_auc": 0.91}, 0.0)
    steps = [e.data["step"] for e in await retraining.events("RetrainingRunStepChanged")]
    assert steps == ["preparing_data", "training", "registering_package", "replacing_model"]
    policy = await retraining.read(f"/deployments/d-1/retraining-policies/{policy_id}")
    assert policy["latest_run"]["id"] == run_id and policy["latest_run"]["status"] == "succeeded"


async def _one_replace(retraining: RunningRetraining) -> Any:
    asks = await retraining.topic(Stream.REPLACEMENT_COMMANDS, "ReplaceModel")
    assert asks, "no ReplaceModel yet"
    assert len({a.id for a in asks}) == 1, asks  # sent again maybe, but always the same command
    return asks[0]


async def test_a_run_fails_when_the_trainer_fails_and_the_next_one_takes_its_turn(
    retraining: RunningRetraining,
) -> None:
    await retraining.configured("d-1")
    policy_id = await retraining.policy("d-1", MANUAL, model_action="create_model_package")
    first = await started(retraining, policy_id)
    second = await started(retraining, policy_id)
    await retraining.run("d-1", first, step="training")
    await retraining.run("d-1", second, step="queued")

    await retraining.emit(
        ev.TrainingFailed(deployment_id="d-1", run_id=first, error="no such file"), time=retraining.clock.now
    )
    run = await retraining.run("d-1", first, status="failed")
    assert (run["error_code"], run["step"]) == ("training-failed", "training") and "no such file" in run["error"]
    await retraining.run("d-1", second, step="training")  # its turn came

    trained = ev.TrainingSucceeded(deployment_id="d-1", run_id=second, model_package_id="pkg-9")
    await retraining.emit(trained, time=retraining.clock.now)
    run = await retraining.run("d-1", second, status="succeeded", step="registering_only")
    assert run["model_package_id"] == "pkg-9"
    assert [r["id"] for r in await retraining.runs("d-1")] == [first, second]


async def test_a_run_fails_when_the_trainer_does_not_answer_in_time(retraining: RunningRetraining) -> None:
    await retraining.configured("d-1")
    policy_id = await retraining.policy("d-1", MANUAL)
    run_id = await started(retraining, policy_id)
    await retraining.run("d-1", run_id, step="training")

    retraining.clock.advance(timedelta(minutes=9))
    await retraining.app.state.scheduler.tick()
    assert (await retraining.read(f"/deployments/d-1/retraining-runs/{run_id}"))["status"] == "running"

    retraining.clock.advance(timedelta(minutes=2))  # past the 10 minutes the trainer had
    run = await retraining.run("d-1", run_id, status="failed")
    assert run["error_code"] == "training-timeout" and "did not answer" in run["error"]
    await on_topic(retraining, Stream.TRAINING_JOBS, "TrainingCanceled", run_id)
    expire = derived_id(run_id, "expire-training")
    assert (await retraining.settled(expire))["status"] == "completed"

    # the late answer changes nothing
    late = ev.TrainingSucceeded(deployment_id="d-1", run_id=run_id, model_package_id="pkg-late")
    await retraining.emit(late, time=retraining.clock.now)
    await retraining.emit(ev.TrainingFailed(deployment_id="d-1", run_id="marker", error="x"), time=retraining.clock.now)
    await eventually(lambda: _folded_past_marker(retraining))
    assert (await retraining.read(f"/deployments/d-1/retraining-runs/{run_id}"))["error_code"] == "training-timeout"


async def _folded_past_marker(retraining: RunningRetraining) -> None:
    from tests.support import applied

    assert applied(retraining.app, "TrainingFailed") >= 1
