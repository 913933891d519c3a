"""Effectively-once: a crash after the write but before the offset commit, and a full replay of the
log into an empty projection, both end in exactly the documents of a clean run, and in summary
counters equal to a recount of those documents (after the replay's every batch, too)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from services.inventory.adapters.store import InventoryStore
from shared.contract import events as ev
from shared.contract.catalog import contract_registry
from shared.contract.envelope import wrap
from shared.contract.events.values import PrincipalType, ReplacementReason, Role
from shared.contract.messages import Message
from shared.messaging.consumer import Inbound, Position
from shared.messaging.replay import replay
from shared.storage.layout import STATE
from shared.storage.mongo import mongo_client
from tests.fixtures.inventory import RunningService
from tests.integration.inventory.recount import assert_counters_exact
from tests.support import Publisher, at, created, eventually, package

DEPLOYMENTS = [f"rel-{n:02d}" for n in range(12)]


def stream() -> list[tuple[Message, Any]]:
    """A mixed history: creations, shares (to users and a group) and revocations, deactivations, health
    reports (some arriving late), predictions, a replacement."""
    items: list[tuple[Message, Any]] = []
    for n, deployment in enumerate(DEPLOYMENTS):
        items.append((created(deployment, label=f"Model {n}"), at(n)))
        items.append((ev.DeploymentShared(deployment_id=deployment, principal="bob", role=Role.USER), at(n + 1)))
        if n % 2 == 0:
            group = ev.DeploymentShared(
                deployment_id=deployment, principal="ml-team", principal_type=PrincipalType.GROUP, role=Role.USER
            )
            items.append((group, at(n + 2)))
        if n % 5 == 0:
            items.append((ev.DeploymentAccessRevoked(deployment_id=deployment, principal="bob"), at(n + 3)))
        if n % 4 == 1:
            items.append((ev.DeploymentDeactivated(deployment_id=deployment), at(n + 4)))
        for k in range(5):
            items.append((ev.PredictionsRecorded(deployment_id=deployment, count=k + n, predicted_at=at(60 * k)), None))
        items.append((ev.DriftDetected(deployment_id=deployment, status="failing"), at(300)))
        items.append((ev.DriftDetected(deployment_id=deployment, status="passing"), at(200)))
        if n % 3 == 0:
            replaced = ev.ModelReplaced(
                deployment_id=deployment, model_package=package(f"pkg-{n}"), reason=ReplacementReason.ACCURACY
            )
            items.append((replaced, at(400)))
    return items


def expected_total(n: int) -> int:
    return sum(k + n for k in range(5))


async def wait_for_totals(inventory: RunningService) -> None:
    async def all_counted() -> None:
        response = await inventory.get("/deployments", limit=100, sort="label")
        body = response.json()
        assert body["count"] == len(DEPLOYMENTS), body
        totals = {d["id"]: d["predictions"]["total"] for d in body["data"]}
        assert totals == {d: expected_total(n) for n, d in enumerate(DEPLOYMENTS)}

    await eventually(all_counted, within=60)
    db = inventory.app.state.store.collection.database
    await eventually(lambda: assert_counters_exact(db), within=30)


async def test_a_crash_after_the_write_and_before_the_commit_applies_nothing_twice(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    store: InventoryStore = inventory.app.state.store
    original = store.apply
    crashes: list[int] = []

    async def crash_after_write(batch: Sequence[Inbound]) -> int:
        applied = await original(batch)
        if not crashes:
            crashes.append(applied)
            raise RuntimeError("simulated crash: written, offsets not committed")
        return applied

    store.apply = crash_after_write  # type: ignore[method-assign]
    await publisher.emit_many(namespace, stream())
    await wait_for_totals(inventory)
    assert crashes, "the simulated crash never happened"
    assert crashes[0] > 0


async def test_replaying_the_log_into_an_empty_projection_gives_the_live_documents(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    envelopes = await publisher.emit_many(namespace, stream())
    # Upstream publishes a few events twice, with the same ids, at new offsets.
    for envelope, (message, _) in list(zip(envelopes, stream(), strict=True))[:10]:
        await publisher.send_envelope(namespace, envelope, message)
    await wait_for_totals(inventory)

    settings = inventory.settings
    client = mongo_client(settings.mongo.url)
    try:
        db = client[settings.mongo.database]
        rebuilt = InventoryStore(db, collection="deployments_replayed")
        batches = 0

        async def apply_then_recount(batch: Sequence[Inbound]) -> int:
            nonlocal batches
            applied = await rebuilt.apply(batch)
            await assert_counters_exact(db, "deployments_replayed")
            batches += 1
            return applied

        stats = await replay(
            settings.kafka.bootstrap_servers,
            [settings.topics.deployment_events, settings.topics.monitoring_events],
            apply_then_recount,
            contract_registry(),
            batch_size=25,
        )
        assert stats.invalid == 0
        assert stats.records == len(envelopes) + 10
        assert batches > 1, "the counters were checked at one point only"

        def documents(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
            # The revision counts writes and the transitions still to count depend on how batches
            # were cut; everything else, offsets and each document's counted share included, must
            # be identical.
            # The packed state is compared as data: its text may order a mapping differently.
            for row in rows:
                del row["_rev"], row["_counting"]
                row[STATE] = json.loads(row[STATE])
            return {row["_id"]: row for row in rows}

        live = documents(await db["deployments"].find().to_list(None))
        replayed = documents(await db["deployments_replayed"].find().to_list(None))
    finally:
        await client.close()
    assert set(live) == set(DEPLOYMENTS)
    assert replayed == live


async def test_a_batch_touching_many_existing_deployments_is_written(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    """FerretDB hangs on one update command that matches ~100 existing documents; writes are chunked."""
    fleet = [f"many-{n:03d}" for n in range(150)]
    await publisher.emit_many(namespace, [(created(d), at(0)) for d in fleet])

    async def all_created() -> None:
        assert (await inventory.get("/deployments", limit=1)).json()["count"] == len(fleet)

    await eventually(all_created, within=60)
    store: InventoryStore = inventory.app.state.store
    batch = []
    for offset, deployment in enumerate(fleet):
        message = ev.PredictionsRecorded(deployment_id=deployment, count=2, predicted_at=at(5))
        batch.append(Inbound(wrap(message, source="tests"), message, Position("direct", 0, offset)))
    assert await asyncio.wait_for(store.apply(batch), timeout=120) == len(fleet)
    assert (await inventory.get("/deployments/summary")).json()["predictions"] == 2 * len(fleet)
    await assert_counters_exact(store.collection.database)
