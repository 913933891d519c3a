"""The whole loop on the real broker and database, every service real: a drift decline fires the policy,
the run asks the reference trainer, which trains a scikit-learn model on the dataset file and registers
it, the run asks the replacement service to replace the champion with it (reason DATA_DRIFT), and the
inventory shows the new model and the run."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from services.trainer import demo_data
from services.trainer.settings import TrainerSettings
from shared.contract.events.values import Feature, TargetType
from shared.contract.topology import Stream
from tests.fixtures.inventory import RunningService, inventory_shows, running_inventory, settings_for
from tests.fixtures.replacement import (
    RunningReplacement,
    registration,
    replacement_settings_for,
    running_replacement,
)
from tests.fixtures.retraining import (
    DATASET,
    ManualClock,
    RunningRetraining,
    retraining_settings_for,
    running_retraining,
)
from tests.fixtures.trainer import running_trainer
from tests.infra import Infra
from tests.support import Publisher, eventually, health_report, package

pytestmark = pytest.mark.integration

CHAMPION = package(
    "pkg-churn-1",
    name="churn v1",
    target_name=demo_data.TARGET,
    target_type=TargetType.BINARY,
    target_classes=("no", "yes"),
)
FEATURES = tuple(
    Feature(name=column, type="Categorical" if column == "plan" else "Numeric")
    for column in demo_data.COLUMNS
    if column != demo_data.TARGET
)


class WallClock(ManualClock):
    """The real time: the trainer and the replacement service stamp their answers with theirs."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


@dataclasses.dataclass
class Loop:
    inventory: RunningService
    replacement: RunningReplacement
    retraining: RunningRetraining

    async def finished_run(self) -> dict[str, Any]:
        async def finished() -> dict[str, Any]:
            runs = await self.retraining.runs("d-1")
            assert len(runs) == 1 and runs[0]["status"] != "running", runs
            return runs[0]

        return await eventually(finished, within=150, interval=0.5)


@contextlib.asynccontextmanager
async def every_service(
    infra: Infra, namespace: str, publisher: Publisher, trainer_settings: TrainerSettings
) -> AsyncIterator[Loop]:
    """Inventory, replacement service, reference trainer and retraining service, and deployment d-1 that
    all of them know, serving pkg-churn-1 (registered), with retraining settings on the demo dataset."""
    champion = registration("pkg-churn-1", target_name=demo_data.TARGET, features=FEATURES, name="churn v1")
    async with (
        running_inventory(settings_for(infra, namespace)) as inventory,
        running_replacement(replacement_settings_for(infra, namespace), publisher) as replacement,
        running_trainer(trainer_settings),
        running_retraining(retraining_settings_for(infra, namespace), publisher, WallClock()) as retraining,
    ):
        await replacement.register(champion)
        await retraining.configured("d-1", DATASET, champion=CHAMPION)
        await inventory_shows(inventory, "d-1", lambda view: _serves(view, "pkg-churn-1"))
        yield Loop(inventory, replacement, retraining)


async def test_a_drift_decline_retrains_and_replaces_the_model_visible_in_the_inventory(
    infra: Infra, namespace: str, publisher: Publisher, trainer_settings: TrainerSettings
) -> None:
    async with every_service(infra, namespace, publisher, trainer_settings) as loop:
        retraining = loop.retraining
        policy_id = await retraining.policy(
            "d-1", {"type": "data_drift_decline"}, name="refit on drift", model_action="model_replacement"
        )

        await retraining.emit(health_report("d-1", "drift", "warning"), time=datetime.now(UTC))

        run = await loop.finished_run()
        assert run["status"] == "succeeded", run
        assert (run["policy_id"], run["trigger"], run["cause"]) == (
            policy_id,
            "data_drift_decline",
            "declined_to_warning",
        )
        new_package = run["model_package_id"]
        assert new_package and new_package != "pkg-churn-1" and run["metrics"], run

        [registered] = [
            e for e in await retraining.topic(Stream.REGISTRY, "ModelPackageRegistered") if e.subject == new_package
        ]
        assert registered.data["target_name"] == demo_data.TARGET and registered.source == "trainer"
        [replaced] = await loop.replacement.events("ModelReplaced")
        assert (replaced.data["model_package"]["id"], replaced.data["reason"]) == (new_package, "DATA_DRIFT")
        assert replaced.actor == "alice"  # the retraining user
        view = await inventory_shows(loop.inventory, "d-1", lambda view: _serves(view, new_package))
        assert view["latest_retraining_run"]["run_id"] == run["id"]
        steps = [e.data["step"] for e in await retraining.events("RetrainingRunStepChanged")]
        assert steps == ["preparing_data", "training", "registering_package", "replacing_model"]


async def test_an_accuracy_decline_retrains_a_challenger_visible_in_the_inventory(
    infra: Infra, namespace: str, publisher: Publisher, trainer_settings: TrainerSettings
) -> None:
    async with every_service(infra, namespace, publisher, trainer_settings) as loop:
        trigger = {"type": "accuracy_decline", "status_declines_to_warning": False}
        await loop.retraining.policy("d-1", trigger, model_action="create_challenger", model_selection="same_blueprint")

        await loop.retraining.emit(health_report("d-1", "accuracy", "warning"), time=datetime.now(UTC))  # switched off
        await loop.retraining.emit(health_report("d-1", "accuracy", "failing"), time=datetime.now(UTC))

        run = await loop.finished_run()
        assert (run["status"], run["cause"], run["step"]) == ("succeeded", "declined_to_failing", "creating_challenger")
        [added] = await loop.replacement.events("ChallengerAdded")
        assert (added.data["challenger_id"], added.data["model_package"]["id"]) == (
            run["challenger_id"],
            run["model_package_id"],
        )
        view = await inventory_shows(loop.inventory, "d-1", lambda view: bool(view["challengers"]))
        assert [c["id"] for c in view["challengers"]] == [run["challenger_id"]]
        assert view["model_package"]["id"] == "pkg-churn-1"  # the champion stays


def _serves(view: dict[str, Any], package_id: str) -> bool:
    return bool(view["model_package"] and view["model_package"]["id"] == package_id)
