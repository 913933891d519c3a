"""`lifecycle replay SERVICE` against the real stack: for every service, after a long mixed stream (creations,
commands completed and rejected, re-sent ids, health reports, registrations, records on a wrong partition),
the rebuild from the log equals what the live service built; `--switch` makes it live and can be undone;
a rebuild that fails half-way leaves nothing behind."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.errors import AutoReconnect
from typer.testing import CliRunner

from shared.contract import events as ev
from shared.contract.commands import actions as act
from shared.contract.commands import replacement as rep
from shared.contract.commands import retraining as ret
from shared.contract.envelope import to_structured, wrap
from shared.contract.events.values import Importance, ReplacementReason, Role
from shared.contract.messages import Actor, Message
from shared.contract.topology import Topics
from shared.storage.mongo import mongo_client
from shared.storage.refold import AggregateRefold
from tests.e2e.cli.runner import cli_environment, lifecycle
from tests.e2e.cli.streams import send_mixed, settled, settled_groups
from tests.fixtures.actions import RunningActions
from tests.fixtures.inventory import RunningService
from tests.fixtures.replacement import CHAMPION_REF, RunningReplacement, registration
from tests.fixtures.retraining import RunningRetraining
from tests.infra import Infra
from tests.integration.inventory.test_replay_equals_live import Draw
from tests.support import Publisher, created, health_report

pytestmark = pytest.mark.integration
USERS = ("alice", "bob", "carol")  # alice created every deployment, bob co-owns it, carol may do nothing


def _id() -> str:
    return str(uuid.uuid4())


def _actor(rng: random.Random) -> Actor:
    return Actor(user=rng.choice(USERS))


async def _dry_run(infra: Infra, namespace: str, service: str, database: str) -> dict[str, Any]:
    result = await lifecycle(
        infra, namespace, "replay", service, "--dry-run", "--json", databases={service: database}, timeout=240
    )
    assert result.code == 0, result.output
    report: dict[str, Any] = result.json()
    return report


async def _collections(infra: Infra, database: str) -> list[str]:
    client = mongo_client(infra.mongo_url)
    try:
        return sorted(await client[database].list_collection_names())
    finally:
        await client.close()


async def test_inventory_replay_equals_live_after_a_long_mixed_stream(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    rng = random.Random(5)
    now = datetime.now(UTC).replace(microsecond=0)
    instants = [now - timedelta(minutes=rng.uniform(0, 600)) for _ in range(60)]
    items: list[tuple[Message, datetime]] = []
    for n in range(10):
        draw = Draw(rng, instants, f"inv-{n:02d}")
        items.append((created(draw.d), draw.when()))
        items += [(draw.any_event(), draw.when()) for _ in range(30)]
    rng.shuffle(items)
    sent = await send_mixed(publisher, namespace, items, rng)
    settings = inventory.settings
    await settled(
        infra.kafka, [settings.group_id], [settings.topics.deployment_events, settings.topics.monitoring_events]
    )

    report = await _dry_run(infra, namespace, "inventory", settings.mongo.database)
    assert report["equal"], report
    assert report["records"] == sent > 300
    assert report["collections"][0]["live"] == 10
    assert not [c for c in await _collections(infra, settings.mongo.database) if "dryrun" in c]


def _actions_command(rng: random.Random, deployment_id: str) -> Message:
    base: dict[str, Any] = {"command_id": _id(), "deployment_id": deployment_id, "actor": _actor(rng)}
    builders: list[Callable[[], Message]] = [
        lambda: act.ActivateDeployment(**base),
        lambda: act.DeactivateDeployment(**base, reason="quiet"),
        lambda: act.ChangeImportance(**base, importance=rng.choice(list(Importance))),
        lambda: act.ChangeDeploymentSettings(**base, label=f"label {rng.randint(0, 9)}"),
        lambda: act.ShareDeployment(**base, principal="carol", role=rng.choice(list(Role))),
        lambda: act.RevokeAccess(**base, principal="carol"),
    ]
    return rng.choice(builders)()


async def test_actions_replay_equals_live_after_a_long_mixed_stream(
    actions: RunningActions, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    rng = random.Random(7)
    commanded = [f"act-{n:02d}" for n in range(10)]
    upstream_only = [f"act-up-{n}" for n in range(3)]
    importances = (Importance.MODERATE, Importance.LOW, Importance.HIGH)  # HIGH: risky actions open change requests
    creations = [created(d, importance=rng.choice(importances), owners=("bob",)) for d in commanded + upstream_only]
    sent = await send_mixed(publisher, namespace, creations, rng, wrong=0.3, twice=0.3)
    settings = actions.settings
    topics = [settings.topics.deployment_events, Topics(namespace).for_stream(act.ActionsCommand.stream)]
    await settled(infra.kafka, [settings.group_id], topics)

    mixed: list[Message] = [_actions_command(rng, rng.choice([*commanded, "act-unknown"])) for _ in range(250)]
    for d in upstream_only:  # a serving platform's own status changes, on deployments nobody commands
        mixed += [rng.choice([ev.DeploymentDeactivated, ev.DeploymentActivated])(deployment_id=d) for _ in range(5)]
    mixed += [health_report(rng.choice(commanded), "service", "failing") for _ in range(30)]
    rng.shuffle(mixed)
    # Keyed right: status changes do not commute, and a live consumer interleaves partitions as its fetches
    # return them, so spread over partitions they would make live state arbitrary (the replay shows that).
    sent += await send_mixed(publisher, namespace, mixed, rng, wrong=0)
    await settled(infra.kafka, [settings.group_id], topics)

    report = await _dry_run(infra, namespace, "actions", settings.mongo.database)
    assert report["equal"], report
    assert report["collections"][0]["live"] == len(commanded) + len(upstream_only) + 1  # + the unknown one
    statuses = [o["status"] async for o in _outcomes(infra, settings.mongo.database)]
    assert statuses.count("completed") > 30 and statuses.count("rejected") > 30, statuses


async def _outcomes(infra: Infra, database: str) -> Any:
    client = mongo_client(infra.mongo_url)
    try:
        async for document in client[database]["deployments"].find({}, {"commands": 1}):
            for outcome in document.get("commands") or ():
                yield outcome
    finally:
        await client.close()


def _replacement_command(rng: random.Random, deployment_id: str) -> Message:
    base: dict[str, Any] = {"command_id": _id(), "deployment_id": deployment_id, "actor": _actor(rng)}
    package_id = rng.choice(["pkg-2", "pkg-3", "pkg-4", "pkg-missing"])
    reason = rng.choice(list(ReplacementReason))
    builders: list[Callable[[], Message]] = [
        lambda: rep.ReplaceModel(**base, model_package_id=package_id, reason=reason),
        lambda: rep.RollbackModel(**base, reason=reason),
        lambda: rep.AddChallenger(**base, model_package_id=package_id),
        lambda: rep.ValidateReplacement(**base, model_package_id=package_id),
    ]
    return rng.choice(builders)()


async def test_replacement_replay_equals_live_after_a_long_mixed_stream(
    replacement: RunningReplacement, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    rng = random.Random(11)
    deployments = [f"rep-{n:02d}" for n in range(10)]
    packages: list[Message] = [registration(p) for p in ("pkg-2", "pkg-3")]
    packages.append(registration("pkg-4", target_type="Regression", target_classes=()))  # refused by the checks
    creations = [created(d, model_package=CHAMPION_REF, owners=("bob",)) for d in deployments]
    sent = await send_mixed(publisher, namespace, [*packages, *creations], rng, wrong=0.3, twice=0.3)
    settings = replacement.settings
    topics = [
        settings.topics.deployment_events,
        settings.topics.registry_events,
        Topics(namespace).for_stream(rep.ReplacementCommand.stream),
    ]
    groups = {settings.group_id: topics[::2], settings.catalog_group_id: topics[1:2]}
    await settled_groups(infra.kafka, groups)

    mixed = [_replacement_command(rng, rng.choice([*deployments, "rep-unknown"])) for _ in range(200)]
    sent += await send_mixed(publisher, namespace, mixed, rng)
    await settled_groups(infra.kafka, groups)

    report = await _dry_run(infra, namespace, "replacement", settings.mongo.database)
    assert report["equal"], report
    deployments_report, catalog_report = report["collections"]
    assert deployments_report["live"] == len(deployments) + 1
    assert catalog_report["live"] == 4  # pkg-1 (the fixture's) and the three above


async def test_retraining_replay_equals_live_after_a_long_mixed_stream(
    retraining: RunningRetraining, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    rng = random.Random(13)
    deployments = [f"ret-{n:02d}" for n in range(8)]
    creations = [created(d, owners=("bob",)) for d in deployments]
    await send_mixed(publisher, namespace, creations, rng, wrong=0.3, twice=0.3)
    settings = retraining.settings
    topics = [settings.topics.for_stream(s) for s in _retraining_streams()]
    await settled(infra.kafka, [settings.group_id], topics)

    settings_commands: list[Message] = []
    for d in [*deployments, "ret-unknown"]:
        base: dict[str, Any] = {"deployment_id": d, "actor": Actor(user="alice"), "command_id": _id()}
        settings_commands.append(ret.ChangeRetrainingSettings(**base, retraining_user="alice", dataset_id="d.csv"))
    policies: list[Message] = []
    reports: list[Message] = []
    for _ in range(120):
        d = rng.choice(deployments)
        base = {"deployment_id": d, "actor": _actor(rng), "command_id": _id()}
        trigger = rng.choice([{"type": "manual"}, {"type": "data_drift_decline", "min_interval_between_runs": "PT6H"}])
        policies.append(ret.CreateRetrainingPolicy(**base, name=f"policy {rng.randint(0, 99)}", trigger=trigger))
        reports.append(
            health_report(d, rng.choice(["drift", "accuracy"]), rng.choice(["passing", "warning", "failing"]))
        )
    # In phases: a report and a policy of one deployment published together race (the live handler may
    # decide the policy before or after folding the report, whatever their order in the log), and whether
    # the report fires the policy depends on it; the replay would show that race as a difference.
    # Keyed right too: reports do not commute either (a fire depends on the reading before).
    for phase in (settings_commands, policies, reports):
        await send_mixed(publisher, namespace, phase, rng, wrong=0)
        await settled(infra.kafka, [settings.group_id], topics)

    report = await _dry_run(infra, namespace, "retraining", settings.mongo.database)
    assert report["equal"], report
    assert report["collections"][0]["live"] == len(deployments) + 1
    assert report["records"] > 250


def _retraining_streams() -> list[Any]:
    from services.retraining.entrypoints.subscribers import SUBSCRIBED

    return list(SUBSCRIBED)


async def _state(infra: Infra, database: str, deployment_id: str) -> dict[str, Any]:
    client = mongo_client(infra.mongo_url)
    try:
        document = await client[database]["deployments"].find_one({"_id": deployment_id})
    finally:
        await client.close()
    assert document is not None
    state: dict[str, Any] = document["state"]
    return state


async def test_a_switch_makes_the_rebuild_live_and_can_be_undone(
    actions: RunningActions, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    rng = random.Random(17)
    settings = actions.settings
    database = settings.mongo.database
    await send_mixed(publisher, namespace, [created(f"sw-{n}", owners=("bob",)) for n in range(4)], rng, wrong=0)
    commands = [_actions_command(rng, f"sw-{n % 4}") for n in range(40)]
    await send_mixed(publisher, namespace, commands, rng)
    topics = [settings.topics.deployment_events, Topics(namespace).for_stream(act.ActionsCommand.stream)]
    await settled(infra.kafka, [settings.group_id], topics)
    right = await _state(infra, database, "sw-1")
    # The live collection goes wrong (a bug, a hand edit): the log knows better.
    client = mongo_client(infra.mongo_url)
    try:
        corrupt = {"$set": {"state.label": "corrupted"}, "$inc": {"_rev": 1}}  # +1, as every writer must
        await client[database]["deployments"].update_one({"_id": "sw-1"}, corrupt)
    finally:
        await client.close()
    databases = {"actions": database}

    differs = await lifecycle(infra, namespace, "replay", "actions", "--dry-run", "--json", databases=databases)
    assert differs.code == 1, differs.output
    refused = await lifecycle(infra, namespace, "replay", "actions", "--switch", databases=databases)
    assert refused.code == 1 and "not switched" in refused.stderr, refused.output
    assert (await _state(infra, database, "sw-1"))["label"] == "corrupted"

    args = ("replay", "actions", "--switch", "--accept-differences", "--json")
    switched = await lifecycle(infra, namespace, *args, databases=databases)
    assert switched.code == 0, switched.output
    report = json.loads(switched.stdout)
    assert report["collections"][0]["first_differing"] == [{"id": "sw-1", "fields": ["label"]}]
    assert (await _state(infra, database, "sw-1"))["label"] == right["label"]
    assert f"deployments_before_{report['undo'].split()[-1]}" in await _collections(infra, database)
    # The live service goes on with the switched collection: a new command is decided on it, once.
    importance = "LOW" if right["importance"] != "LOW" else "HIGH"
    await actions.completed("/deployments/sw-1/importance", {"importance": importance})
    assert (await _state(infra, database, "sw-1"))["importance"] == importance

    undone = await lifecycle(
        infra, namespace, "replay", "actions", "--undo", report["undo"].split()[-1], databases=databases
    )
    assert undone.code == 0, undone.output
    assert (await _state(infra, database, "sw-1"))["label"] == "corrupted"


async def test_a_replay_that_fails_half_way_leaves_nothing_behind(
    actions: RunningActions,
    publisher: Publisher,
    namespace: str,
    infra: Infra,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(19)
    settings = actions.settings
    database = settings.mongo.database
    await send_mixed(publisher, namespace, [created(f"fail-{n}") for n in range(60)], rng, wrong=0)
    await settled(infra.kafka, [settings.group_id], [settings.topics.deployment_events])
    finish = AggregateRefold.finish

    async def fails_after_writing_some(refold: AggregateRefold[Any]) -> None:
        await refold.store.collection.insert_one({"_id": "half-written", "state": {}})
        raise AutoReconnect("the database went away half-way")

    for name, value in cli_environment(infra, namespace, databases={"actions": database}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(AggregateRefold, "finish", fails_after_writing_some)
    failed = await _in_process("replay", "actions", "--into", "fixed_name")
    assert isinstance(failed.exception, AutoReconnect), failed.output
    assert [c for c in await _collections(infra, database) if c.startswith("fixed_name")] == []

    monkeypatch.setattr(AggregateRefold, "finish", finish)
    again = await _in_process("replay", "actions", "--into", "fixed_name")
    assert again.exit_code == 0, f"{again.output}\n{again.exception!r}"
    assert "fixed_name" in await _collections(infra, database)


async def _in_process(*args: str) -> Any:
    """The CLI in this process (so the test can make the database fail), in a thread: it runs its own loop."""
    import asyncio

    from tools.cli import app

    if not any(command.name == "replay" for command in app.app.registered_commands):
        app._register()
    return await asyncio.to_thread(CliRunner().invoke, app.app, list(args))


async def test_a_record_no_consumer_can_read_is_skipped_and_reported(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    """The poison of a field report: a health report whose time has no UTC offset, between good ones."""
    topic = Topics(namespace).monitoring_events
    await publisher.emit(namespace, created("naive-1"))
    await publisher.emit(namespace, health_report("naive-1", "service", "passing"))
    value, headers = to_structured(wrap(health_report("naive-1", "service", "failing"), source="upstream"))
    event = json.loads(value)
    event["time"] = event["time"][:19]  # a careless producer's naive time
    await publisher.send(topic, json.dumps(event).encode(), b"naive-1", headers)
    await publisher.emit(namespace, health_report("naive-1", "drift", "warning"))
    settings = inventory.settings
    await settled(infra.kafka, [settings.group_id], [settings.topics.deployment_events, topic])

    report = await _dry_run(infra, namespace, "inventory", settings.mongo.database)
    assert report["equal"], report
    assert (report["records"], report["applied"]) == (4, 3)
    assert len(report["skipped"]) == 1 and f"{topic}[" in report["skipped"][0]
    assert "bad-envelope" in report["skipped"][0]
