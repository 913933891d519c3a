"""The generic command handler on the real database, fed directly (no broker): redelivery, re-sent ids,
concurrent writers, crashes before the publish and the sweeper. A recording publisher stands in for Kafka."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
import pytest_asyncio
from aiokafka.errors import KafkaConnectionError
from prometheus_client import CollectorRegistry

from services.actions.adapters.store import ActionsStore
from services.actions.domain.decider import deployments
from services.actions.entrypoints.subscribers import actions_registry
from shared.contract import events as ev
from shared.contract.commands.actions import RegisterDeployment
from shared.contract.envelope import Envelope, derived_id, wrap
from shared.contract.messages import Actor, Message
from shared.domain.decider import Decider
from shared.messaging.consumer import Inbound, Position
from shared.messaging.publisher import KafkaPublisher
from shared.service.command_api import current_status
from shared.service.commands import CommandHandler, CommandMetrics, Outbox, OutboxSweeper
from shared.storage.aggregates import CommandRecord
from shared.storage.backend import backend_of
from shared.storage.mongo import mongo_client
from tests.infra import Infra
from tests.support import created, package

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
COMMANDS_TOPIC, EVENTS_TOPIC = "t.actions-commands", "t.deployment"


class RecordingPublisher:
    def __init__(self) -> None:
        self.sent: list[Envelope] = []

    async def publish_envelopes(self, envelopes: Sequence[Envelope], messages: Sequence[Message]) -> None:
        self.sent += envelopes


class Crash(Exception):
    """Stands for the process dying between the state write and the publish."""


@pytest_asyncio.fixture
async def store(infra: Infra) -> AsyncIterator[ActionsStore]:
    client = mongo_client(infra.mongo_url)
    name = f"act_handler_{uuid.uuid4().hex[:10]}"
    yield ActionsStore(client[name])
    await client.drop_database(name)
    await client.close()


def kit(
    store: ActionsStore, decider: Decider[Any, Any] = deployments, crash: bool = False
) -> tuple[CommandHandler[Any, Any], OutboxSweeper, RecordingPublisher]:
    publisher = RecordingPublisher()
    outbox = Outbox(
        store.deployments, cast(KafkaPublisher, publisher), actions_registry(), CommandMetrics(CollectorRegistry())
    )

    def die() -> None:
        raise Crash

    sweeper = OutboxSweeper(store.deployments, outbox, grace=timedelta(seconds=30))
    handler = CommandHandler(
        service="actions",
        decider=decider,
        store=store.deployments,
        statuses=store.statuses,
        outbox=outbox,
        clock=lambda: NOW,
        after_state_write=die if crash else None,
        before_first_batch=sweeper.swept_at_start,
    )
    return handler, sweeper, publisher


async def status(store: ActionsStore, command_id: str) -> CommandRecord:
    record = await store.statuses.get(command_id)
    assert record is not None, command_id
    return await current_status(record, store.deployments)


def register(deployment_id: str, command_id: str, user: str = "alice") -> RegisterDeployment:
    return RegisterDeployment(
        command_id=command_id,
        deployment_id=deployment_id,
        actor=Actor(user=user),
        label="Churn",
        model_package=package(),
        prediction_environment={"id": "env-1", "name": "prod", "platform": "aws"},
    )


def inbound(
    message: Message,
    offset: int,
    *,
    topic: str = COMMANDS_TOPIC,
    partition: int = 0,
    source: str = "tests",
    event_id: str | None = None,
) -> Inbound:
    envelope = wrap(
        message,
        source=source,
        event_id=event_id or getattr(message, "command_id", None) or str(uuid.uuid4()),
        actor="tester",
    )
    return Inbound(envelope, message, Position(topic, partition, offset))


async def test_a_redelivered_batch_publishes_nothing_again(store: ActionsStore) -> None:
    handler, _, published = kit(store)
    batch = [inbound(register("d-1", "c-1"), 10)]
    await handler(batch)
    await handler(batch)
    assert [e.id for e in published.sent] == [derived_id("c-1", "0")]
    record = await status(store, "c-1")
    assert record.status == "completed" and record.event_ids == (derived_id("c-1", "0"),)


async def test_a_command_id_sent_again_at_another_offset_runs_once(store: ActionsStore) -> None:
    handler, _, published = kit(store)
    await handler([inbound(register("d-1", "c-1"), 10)])
    await handler([inbound(register("d-1", "c-1"), 11), inbound(register("d-1", "c-1"), 12)])
    assert [e.type for e in published.sent] == ["DeploymentCreated"]


async def test_events_carry_actor_correlation_and_causation_of_the_command(store: ActionsStore) -> None:
    handler, _, published = kit(store)
    await handler([inbound(register("d-1", "c-1", user="carol"), 0)])
    (event,) = published.sent
    assert (event.source, event.actor, event.causationid, event.time) == ("actions", "carol", "c-1", NOW)
    assert event.correlationid == "c-1"  # the command's envelope carried none of its own: the command id


async def test_the_second_of_two_conflicting_commands_sees_the_first(store: ActionsStore) -> None:
    handler, _, published = kit(store)
    await handler([inbound(register("d-1", "c-1"), 0), inbound(register("d-1", "c-2", user="bob"), 1)])
    assert [e.type for e in published.sent] == ["DeploymentCreated", "CommandRejected"]
    rejected = published.sent[1]
    assert rejected.id == derived_id("c-2", "0")
    assert rejected.data["code"] == "already-exists" and "created by alice" in rejected.data["reason"]
    record = await status(store, "c-2")
    assert (record.status, record.code) == ("rejected", "already-exists")


async def test_two_instances_racing_on_one_deployment_decide_one_after_the_other(store: ActionsStore) -> None:
    if not (await backend_of(store.deployments.collection.database.client)).atomic_revision_guard:
        pytest.skip(
            "this database cannot refuse the losing write of a race between processes (FerretDB v1 without "
            "the PostgreSQL trigger of shared.storage.ferretdb_postgres, e.g. on SQLite)"
        )
    first, _, published_1 = kit(store)
    second, _, published_2 = kit(store)
    # Two partitions: one partition's records are never handled out of order, but a producer with
    # another partitioner can put one deployment's commands on two, each read by another instance.
    one, other = inbound(register("d-1", "c-1"), 0, partition=0), inbound(register("d-1", "c-2"), 0, partition=1)
    await asyncio.gather(first([one]), second([other]))
    # The loser re-decides on the winner's document and may publish the winner's pending event
    # again: the same id, which consumers drop. By id, one creation and one rejection.
    by_id = {e.id: e for e in [*published_1.sent, *published_2.sent]}
    assert sorted(e.type for e in by_id.values()) == ["CommandRejected", "DeploymentCreated"]
    document = await store.deployments.load("d-1")
    assert {o.command_id for o in document.recent} == {"c-1", "c-2"}


async def test_upstream_creation_is_folded_and_own_events_coming_back_are_skipped(store: ActionsStore) -> None:
    handler, _, published = kit(store)
    await handler([inbound(created("d-up"), 0, topic=EVENTS_TOPIC)])
    await handler([inbound(register("d-up", "c-1"), 0)])
    assert published.sent[-1].data["code"] == "already-exists"
    before = await store.deployments.load("d-1")
    await handler([inbound(register("d-1", "c-2"), 1)])
    own = published.sent[-1]
    written = await store.deployments.load("d-1")
    await handler(
        [
            inbound(
                ev.DeploymentCreated.model_validate(own.data), 1, topic=EVENTS_TOPIC, source="actions", event_id=own.id
            )
        ]
    )
    assert (await store.deployments.load("d-1")).revision == written.revision, "its own event is not written again"
    assert before.revision == 0


async def test_a_crash_after_the_state_write_leaves_the_events_for_the_sweeper(store: ActionsStore) -> None:
    crashing, _, lost = kit(store, crash=True)
    with pytest.raises(Crash):
        await crashing([inbound(register("d-1", "c-1"), 0)])
    assert lost.sent == []
    restarted, sweeper, published = kit(store)
    await restarted([inbound(register("d-1", "c-1"), 0)])  # the redelivered command: it ran already
    assert [e.id for e in published.sent] == [derived_id("c-1", "0")], "published once, by the sweep at start"
    assert await sweeper.sweep() == 0
    assert (await status(store, "c-1")).status == "completed"


async def test_events_a_failed_publish_left_go_out_when_the_batch_is_retried(store: ActionsStore) -> None:
    handler, _, published = kit(store)
    real = published.publish_envelopes
    failures = [KafkaConnectionError()]

    async def flaky(envelopes: Sequence[Envelope], messages: Sequence[Message]) -> None:
        if failures:
            raise failures.pop()
        await real(envelopes, messages)

    published.publish_envelopes = flaky  # type: ignore[method-assign]
    batch = [inbound(register("d-1", "c-1"), 0)]
    with pytest.raises(KafkaConnectionError):
        await handler(batch)
    await handler(batch)  # the consumer retries a transient failure in place
    assert [e.id for e in published.sent] == [derived_id("c-1", "0")]
    assert not (await store.deployments.load("d-1")).outbox


async def test_the_sweeper_leaves_young_outboxes_to_the_handler_after_its_first_run(store: ActionsStore) -> None:
    _, sweeper, published = kit(store)
    await sweeper.sweep()  # the first run, at start, takes everything
    crashing, _, _ = kit(store, crash=True)
    with pytest.raises(Crash):
        await crashing([inbound(register("d-1", "c-1"), 0)])
    sweeper.clock = lambda: NOW + timedelta(seconds=5)
    assert await sweeper.sweep() == 0
    sweeper.clock = lambda: NOW + timedelta(seconds=31)
    assert await sweeper.sweep() == 1
    assert len(published.sent) == 1


async def test_a_decide_that_raises_ends_in_a_rejection_not_a_stalled_partition(store: ActionsStore) -> None:
    def broken(state: Any, command: Any, now: datetime) -> Any:
        raise ZeroDivisionError("bug")

    decider = Decider(deployments.state_type, deployments.initial, broken, deployments.evolve, deployments.commands)
    handler, _, published = kit(store, decider=decider)
    await handler([inbound(register("d-1", "c-1"), 0)])
    assert published.sent[0].data["code"] == "internal-error"
    assert "ZeroDivisionError" in published.sent[0].data["reason"]


async def test_outcomes_that_leave_a_full_document_still_answer_and_still_dedupe(store: ActionsStore) -> None:
    store.deployments.recent_commands = 2
    handler, _, published = kit(store)
    await handler([inbound(register("d-1", f"c-{n}"), n) for n in range(4)])
    document = await store.deployments.load("d-1")
    assert [o.command_id for o in document.recent] == ["c-2", "c-3"]
    assert (await store.statuses.get("c-0")) is not None
    assert ((await status(store, "c-0")).status, (await status(store, "c-1")).code) == ("completed", "already-exists")
    await handler([inbound(register("d-1", "c-0"), 10)])  # re-sent long after: found in the status collection
    assert len(published.sent) == 4


async def test_in_one_process_the_sweeper_and_the_handler_never_overwrite_each_other(store: ActionsStore) -> None:
    """FerretDB v1 checks `{_id, _rev}` between its read and its write, so two guarded writes at once
    can both land; within one process the store's per-deployment lock keeps them apart."""
    fleet = [f"d-{n}" for n in range(10)]
    crashing, _, _ = kit(store, crash=True)
    for n, deployment in enumerate(fleet):  # each left with a pending outbox
        with pytest.raises(Crash):
            await crashing([inbound(register(deployment, f"first-{n}"), n)])
    handler, sweeper, published = kit(store)
    sweeper.clock = lambda: NOW + timedelta(minutes=5)
    await sweeper.swept_at_start()
    for n, deployment in enumerate(fleet):  # leave them pending again, then race a sweep and new commands
        with pytest.raises(Crash):
            await crashing([inbound(register(deployment, f"second-{n}"), 100 + n)])
    await asyncio.gather(
        sweeper.sweep(), handler([inbound(register(d, f"third-{n}"), 200 + n) for n, d in enumerate(fleet)])
    )
    for n, deployment in enumerate(fleet):
        document = await store.deployments.load(deployment)
        assert [o.command_id for o in document.recent] == [f"first-{n}", f"second-{n}", f"third-{n}"]
        assert document.outbox == ()
    assert {e.causationid for e in published.sent} == {
        f"{k}-{n}" for k in ("first", "second", "third") for n in range(10)
    }
