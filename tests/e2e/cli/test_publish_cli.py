"""`lifecycle publish`: events and commands from JSON onto their topics as an upstream system sends them,
all validated before any is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from shared.contract.envelope import to_structured, wrap
from shared.contract.topology import Topics
from tests.e2e.cli.runner import lifecycle
from tests.fixtures.actions import read_topic
from tests.fixtures.inventory import RunningService, inventory_shows
from tests.infra import Infra
from tests.support import at, created, health_report

pytestmark = pytest.mark.integration


def short(message: Any, **attributes: Any) -> dict[str, Any]:
    return {"type": message.type_name, "data": message.model_dump(mode="json"), **attributes}


def structured(message: Any, **attributes: Any) -> dict[str, Any]:
    """A full CloudEvents structured event, as bytes on the wire would hold it."""
    value, _ = to_structured(wrap(message, source="upstream/monitor", **attributes))
    parsed: dict[str, Any] = orjson.loads(value)
    return parsed


ACTIVATE = {
    "type": "ActivateDeployment",
    "data": {"command_id": "cmd-pub-1", "deployment_id": "pub-1", "actor": {"user": "alice"}},
}


async def test_publishes_events_and_commands_to_their_topics(
    inventory: RunningService, namespace: str, infra: Infra, tmp_path: Path
) -> None:
    items = [
        short(created("pub-1"), time=at(0).isoformat(), actor="upstream", id="evt-created"),
        structured(health_report("pub-1", "drift", "warning", message="income"), time=at(1), event_id="evt-drift"),
        ACTIVATE,
    ]
    file = tmp_path / "items.json"
    file.write_bytes(orjson.dumps(items))

    result = await lifecycle(infra, namespace, "publish", str(file), "--json")
    topics = Topics(namespace)
    assert result.json() == {
        "published": True,
        "items": [
            {"type": "DeploymentCreated", "id": "evt-created", "topic": topics.deployment_events, "subject": "pub-1",
             "time": "2026-11-01T12:00:00+00:00"},
            {"type": "DriftDetected", "id": "evt-drift", "topic": topics.monitoring_events, "subject": "pub-1",
             "time": "2026-11-01T12:01:00+00:00"},
            {"type": "ActivateDeployment", "id": "cmd-pub-1", "topic": f"{namespace}.actions-commands",
             "subject": "pub-1", "time": result.json()["items"][2]["time"]},
        ],
    }  # fmt: skip
    view = await inventory_shows(inventory, "pub-1", lambda d: d["health"]["drift"]["status"] == "warning")
    assert (view["created_by"], view["health"]["drift"]["message"]) == ("alice", "income")
    (command,) = await read_topic(infra.kafka, f"{namespace}.actions-commands")
    assert (command.id, command.actor, command.data["command_id"]) == ("cmd-pub-1", "alice", "cmd-pub-1")
    (creation, *_) = await read_topic(infra.kafka, topics.deployment_events)
    assert (creation.actor, creation.source, creation.time) == ("upstream", "lifecycle-cli", at(0))


async def test_one_invalid_item_and_nothing_is_published(infra: Infra, namespace: str, tmp_path: Path) -> None:
    bad_creation = short(created("pub-2"))
    del bad_creation["data"]["label"]
    items: list[Any] = [
        short(created("pub-ok")),
        bad_creation,
        {"type": "NoSuchEvent", "data": {}},
        [1],
        structured(created("x")),
    ]
    items[4]["time"] = "2026-11-01T12:00:00"  # naive: refused, never guessed
    file = tmp_path / "items.json"
    file.write_bytes(orjson.dumps(items))

    refused = await lifecycle(infra, namespace, "publish", str(file))
    assert refused.code == 2, refused.output
    assert refused.stderr.splitlines() == [
        "lifecycle: item 1: schema-violation: DeploymentCreated: label: Field required",
        "lifecycle: item 2: unknown-type: unknown message type 'NoSuchEvent'",
        "lifecycle: item 3: not-an-object: expected a JSON object, got list",
        "lifecycle: item 4: bad-envelope: time: Input should have timezone info",
        "lifecycle: 4 of 5 items are invalid; nothing was published",
    ]
    assert not refused.stdout
    # Proof that nothing went out: the next publish is the only thing on the topic.
    marker = await lifecycle(infra, namespace, "publish", "-", stdin=orjson.dumps(short(created("marker"))).decode())
    assert marker.code == 0, marker.output
    assert [e.subject for e in await read_topic(infra.kafka, Topics(namespace).deployment_events)] == ["marker"]


async def test_json_lines_from_stdin_and_dry_run(infra: Infra, namespace: str) -> None:
    lines = "\n".join(orjson.dumps(short(created(f"jl-{n}"))).decode() for n in range(3)) + "\n\n"

    checked = await lifecycle(infra, namespace, "publish", "-", "--dry-run", stdin=lines)
    assert checked.code == 0, checked.output
    assert "3 valid (dry run: nothing published)" in checked.stdout and "jl-2" in checked.stdout
    published = await lifecycle(infra, namespace, "publish", "-", stdin=lines)
    assert published.code == 0, published.output
    assert "3 published" in published.stdout
    found = await read_topic(infra.kafka, Topics(namespace).deployment_events)
    assert sorted(e.subject for e in found) == ["jl-0", "jl-1", "jl-2"], "the dry run sent nothing"

    garbled = await lifecycle(infra, namespace, "publish", "-", stdin='{"type": "x", "data": {}}\n{oops\n')
    assert garbled.code == 2, garbled.output
    assert garbled.stderr.startswith("lifecycle: the input is neither JSON nor JSON lines (line 2: ")
    empty = await lifecycle(infra, namespace, "publish", "-", stdin="  \n")
    assert (empty.code, empty.stderr) == (2, "lifecycle: the input is empty\n")
