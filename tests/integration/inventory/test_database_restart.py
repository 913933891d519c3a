"""The database goes away mid-stream and comes back: the consumer keeps retrying its batch, then
catches up with nothing lost and nothing counted twice, and with summary counters equal to a
recount. Uses a private FerretDB so that stopping it disturbs no one else; needs the locally built
binary."""

from __future__ import annotations

from datetime import datetime

from shared.contract import events as ev
from shared.contract.events.values import PrincipalType, Role
from shared.contract.messages import Message
from shared.service.settings import MongoSettings
from tests.fixtures.inventory import running_inventory, settings_for
from tests.fixtures.private_database import PrivateDatabase
from tests.infra import Infra
from tests.integration.inventory.recount import assert_counters_exact
from tests.support import Publisher, at, created, eventually


async def test_a_database_outage_delays_but_does_not_lose_or_double_events(
    infra: Infra, namespace: str, private_database: PrivateDatabase, publisher: Publisher
) -> None:
    settings = settings_for(infra, namespace).model_copy(
        update={"mongo": MongoSettings(url=private_database.url, database=f"inv_{namespace}")}
    )
    fleet = [f"outage-{n}" for n in range(10)]
    async with running_inventory(settings) as inventory:
        await publisher.emit_many(namespace, [(created(d), at(0)) for d in fleet])

        async def listed() -> None:
            response = await inventory.get("/deployments", limit=100)
            assert response.status_code == 200
            assert response.json()["count"] == len(fleet)

        await eventually(listed, within=60)
        private_database.kill()
        during: list[tuple[Message, datetime | None]] = [
            (ev.PredictionsRecorded(deployment_id=d, count=k, predicted_at=at(k)), None)
            for d in fleet
            for k in (1, 2, 3)
        ]
        during += [(share(d), at(1)) for d in fleet[::2]]
        during += [(ev.DeploymentDeactivated(deployment_id=fleet[1]), at(2)), (drift(fleet[2]), at(2))]
        await publisher.emit_many(namespace, during)
        await eventually(lambda: _failed_batches(inventory.app), within=30)
        private_database.start()

        async def caught_up() -> None:
            response = await inventory.get("/deployments", limit=100)
            assert response.status_code == 200
            assert {d["id"]: d["predictions"]["total"] for d in response.json()["data"]} == dict.fromkeys(fleet, 6)

        await eventually(caught_up, within=90, interval=0.5)
        db = inventory.app.state.store.collection.database
        await eventually(lambda: assert_counters_exact(db), within=30, interval=0.5)


def share(deployment: str) -> ev.DeploymentShared:
    group = PrincipalType.GROUP
    return ev.DeploymentShared(deployment_id=deployment, principal="ml-team", principal_type=group, role=Role.USER)


def drift(deployment: str) -> ev.DriftDetected:
    return ev.DriftDetected(deployment_id=deployment, status="failing")


async def _failed_batches(app: object) -> None:
    failures = app.state.runtime.metrics.batch_failures._value.get()  # type: ignore[attr-defined]
    assert failures > 0, "the consumer has not noticed the outage yet"
