"""The trainer on the real broker and database: a request in, a registered package, a model file and an
answer out; failures answered with their reason; one package per run whatever is redelivered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.trainer.adapters import model_files
from services.trainer.domain.package import model_package_id
from shared.contract.envelope import Envelope, wrap
from shared.contract.events.retraining import ModelSelection, TrainingCanceled
from shared.contract.topology import Stream
from tests.fixtures.trainer import RunningTrainer, training_request
from tests.support import Publisher, eventually, until_applied

pytestmark = pytest.mark.integration

ANSWERS = ("TrainingSucceeded", "TrainingFailed")


async def answers(trainer: RunningTrainer, run_id: str, count: int = 1) -> list[Envelope]:
    """The trainer's answers to `run_id`, once there are `count` of them."""

    async def found() -> list[Envelope]:
        answered = [e for e in await trainer.topic(Stream.TRAINING_JOBS, *ANSWERS) if e.data["run_id"] == run_id]
        assert len(answered) >= count, f"{len(answered)} answer(s) to {run_id} so far"
        return answered

    return await eventually(found, within=60)


async def registrations(trainer: RunningTrainer, package_id: str) -> list[Envelope]:
    return [e for e in await trainer.topic(Stream.REGISTRY, "ModelPackageRegistered") if e.subject == package_id]


def model_files_of(trainer: RunningTrainer) -> list[str]:
    directory = trainer.settings.training.model_dir
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


async def test_a_request_is_trained_registered_and_answered_with_a_model_file_that_predicts(
    trainer: RunningTrainer, publisher: Publisher, namespace: str
) -> None:
    request = training_request("dep-churn")
    asked = await publisher.emit(namespace, request)

    [answer] = await answers(trainer, request.run_id)

    assert answer.type == "TrainingSucceeded", answer.data
    assert (answer.source, answer.subject) == ("trainer", "dep-churn")
    assert (answer.causationid, answer.correlationid) == (asked.id, asked.correlationid)
    package_id = model_package_id(request.run_id)
    assert answer.data["model_package_id"] == package_id
    assert answer.data["estimator_family"] in {"linear", "random_forest", "gradient_boosting"}
    assert set(answer.data["metrics"]) == {"LogLoss", "AUC", "Accuracy"}
    assert answer.data["hyperparameters"]

    [registered] = await registrations(trainer, package_id)
    assert registered.time <= answer.time  # registered before the answer says so
    package = registered.data
    assert (package["target_name"], package["target_type"], package["target_classes"]) == (
        "churned",
        "Binary",
        ["no", "yes"],
    )
    assert {f["name"]: f["type"] for f in package["features"]} == {
        "tenure_months": "Numeric",
        "monthly_charges": "Numeric",
        "support_calls": "Numeric",
        "age": "Numeric",
        "plan": "Categorical",
    }

    path = model_files.model_path(trainer.settings.training.model_dir, package_id)
    bundle = model_files.load(path)
    assert bundle["metrics"] == answer.data["metrics"]
    customers = [
        {"tenure_months": 1, "monthly_charges": 115, "support_calls": 8, "age": 25, "plan": "basic"},
        {"tenure_months": 72, "monthly_charges": 20, "support_calls": 0, "age": 60, "plan": "premium"},
    ]
    assert model_files.predict(bundle, customers) == ["yes", "no"]


async def test_a_missing_dataset_is_answered_as_failed_naming_the_file_and_registers_nothing(
    trainer: RunningTrainer, publisher: Publisher, namespace: str
) -> None:
    request = training_request(dataset_path="nowhere/churn-2027.csv")
    await publisher.emit(namespace, request)

    [answer] = await answers(trainer, request.run_id)

    assert answer.type == "TrainingFailed"
    missing = trainer.settings.training.dataset_root / "nowhere/churn-2027.csv"
    assert answer.data["error"] == f"dataset not found: {missing}"
    assert await registrations(trainer, model_package_id(request.run_id)) == []
    assert model_files_of(trainer) == []


async def test_a_missing_target_column_is_answered_as_failed_with_the_columns_there_are(
    trainer: RunningTrainer, publisher: Publisher, namespace: str
) -> None:
    request = training_request(target_name="churn")
    await publisher.emit(namespace, request)

    [answer] = await answers(trainer, request.run_id)

    assert answer.type == "TrainingFailed"
    assert answer.data["error"].startswith("target column 'churn' is not in the dataset (columns: tenure_months,")


async def test_a_redelivered_request_registers_one_package_and_answers_once(
    trainer: RunningTrainer, publisher: Publisher, namespace: str
) -> None:
    request = training_request()
    first = wrap(request, source="retraining", event_id="ask-1")
    await publisher.send_envelope(namespace, first, request)
    await publisher.send_envelope(namespace, first, request)  # the same record again (a producer retry)
    again = wrap(request, source="retraining", event_id="ask-2")  # the same run asked again (a re-sent request)
    await publisher.send_envelope(namespace, again, request)
    await until_applied(trainer.app, 3, "TrainingRequested", within=60)

    answered = await answers(trainer, request.run_id)
    registered = await registrations(trainer, model_package_id(request.run_id))

    assert [a.type for a in answered] == ["TrainingSucceeded"]
    assert len(registered) == 1
    assert model_files_of(trainer) == [model_files.model_path(Path(), model_package_id(request.run_id)).name]


async def test_a_request_past_its_deadline_is_answered_as_failed_without_training(
    trainer: RunningTrainer, publisher: Publisher, namespace: str
) -> None:
    request = training_request(deadline=datetime.now(UTC) - timedelta(seconds=1))
    await publisher.emit(namespace, request)

    [answer] = await answers(trainer, request.run_id)

    assert answer.type == "TrainingFailed"
    assert "passed before training started" in answer.data["error"]
    assert await registrations(trainer, model_package_id(request.run_id)) == []


async def test_a_request_read_after_its_cancel_is_neither_trained_nor_answered(
    trainer: RunningTrainer, publisher: Publisher, namespace: str
) -> None:
    canceled = training_request("dep-c")
    await publisher.emit(namespace, TrainingCanceled(deployment_id="dep-c", run_id=canceled.run_id, reason="timeout"))
    await publisher.emit(namespace, canceled)
    control = training_request("dep-c", dataset_path="missing.csv")  # same partition, read after it
    await publisher.emit(namespace, control)

    await answers(trainer, control.run_id)

    assert [e for e in await trainer.topic(Stream.TRAINING_JOBS, *ANSWERS) if e.data["run_id"] == canceled.run_id] == []
    assert await registrations(trainer, model_package_id(canceled.run_id)) == []


async def test_same_hyperparameters_refits_a_champion_this_trainer_trained_from_its_own_record(
    trainer: RunningTrainer, publisher: Publisher, namespace: str
) -> None:
    first = training_request("dep-h")
    await publisher.emit(namespace, first)
    [champion] = await answers(trainer, first.run_id)
    assert champion.type == "TrainingSucceeded", champion.data

    refit = training_request(
        "dep-h",
        model_selection=ModelSelection.SAME_HYPERPARAMETERS,
        champion_model_package_id=champion.data["model_package_id"],  # family and hyperparameters left out
    )
    await publisher.emit(namespace, refit)
    [answer] = await answers(trainer, refit.run_id)

    assert answer.type == "TrainingSucceeded", answer.data
    assert answer.data["estimator_family"] == champion.data["estimator_family"]
    assert answer.data["hyperparameters"] == champion.data["hyperparameters"]
    assert answer.data["model_package_id"] != champion.data["model_package_id"]
