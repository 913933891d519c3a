"""The published contract holds together as a generated client needs it to: the AsyncAPI 3.0 document
has a send and a receive operation for every channel (every stream, the three command channels, the
dead-letter topic), every reference in it resolves, and every JSON Schema in schemas/ declares its
dialect and is valid under that dialect's meta-schema.

No AsyncAPI validator is available offline, so its structure is checked here, rule by rule, for the
parts the project uses (AsyncAPI 3.0.0: channels with `address` and `messages`, operations with
`action`, `channel` and `messages` referring into the channel)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
import pytest

from shared.contract.schemas import JSON_SCHEMA_DIALECT, render
from shared.contract.topology import Stream
from shared.messaging.dead_letters import Header
from shared.messaging.redrive import REDRIVE_OF, Redrive

FILES = render()
ASYNCAPI: dict[str, Any] = json.loads(FILES["asyncapi.json"])
SCHEMA_FILES = sorted(name for name in FILES if name != "asyncapi.json")


def resolve(document: dict[str, Any], ref: str) -> Any:
    """A local JSON pointer (`#/a/b`), or fails naming the part that does not exist."""
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref}: no {part!r}"
        node = node[part]
    return node


def test_it_is_an_asyncapi_3_document() -> None:
    assert ASYNCAPI["asyncapi"] == "3.0.0"
    assert {"title", "version"} <= set(ASYNCAPI["info"])
    assert set(ASYNCAPI) <= {"asyncapi", "id", "info", "servers", "defaultContentType", "channels", "operations",
                             "components"}  # fmt: skip


def test_every_stream_and_the_dead_letters_are_channels() -> None:
    expected = {stream.value for stream in Stream} | {"dead-letters"}
    assert expected == set(ASYNCAPI["channels"])
    assert {"actions-commands", "replacement-commands", "retraining-commands", "training-jobs"} <= expected
    for name, channel in ASYNCAPI["channels"].items():
        assert channel["address"].endswith(f".{name}"), name
        assert channel["messages"], f"{name} carries no message"
        for key, message in channel["messages"].items():
            assert resolve(ASYNCAPI, message["$ref"])["name"] == key, (name, key)


def test_every_channel_has_a_send_and_a_receive_operation_with_its_messages() -> None:
    operations = ASYNCAPI["operations"]
    for name, channel in ASYNCAPI["channels"].items():
        actions: dict[str, dict[str, Any]] = {}
        for operation in operations.values():
            assert operation["action"] in ("send", "receive")
            if resolve(ASYNCAPI, operation["channel"]["$ref"]) is channel:
                actions[operation["action"]] = operation
        assert set(actions) == {"send", "receive"}, name
        for operation in actions.values():
            refs = [message["$ref"] for message in operation["messages"]]
            # AsyncAPI 3: an operation's messages are references to messages of its channel.
            assert all(ref.startswith(f"#/channels/{name}/messages/") for ref in refs), refs
            assert {ref.rsplit("/", 1)[1] for ref in refs} == set(channel["messages"]), name
            for ref in refs:
                resolve(ASYNCAPI, ref)


def test_every_message_payload_refers_to_a_published_schema() -> None:
    for name, message in ASYNCAPI["components"]["messages"].items():
        refs = [part["$ref"] for part in message["payload"].get("allOf", []) if "$ref" in part]
        refs += [part["properties"]["data"]["$ref"] for part in message["payload"].get("allOf", [])[1:]]
        for ref in refs:
            assert ref in FILES, (name, ref)


def test_the_dead_letter_is_the_original_value_with_every_dlq_header() -> None:
    letter = resolve(ASYNCAPI, ASYNCAPI["channels"]["dead-letters"]["messages"]["DeadLetter"]["$ref"])
    headers = {value for key, value in vars(Header).items() if key.isupper() and key != "PREFIX"}
    assert set(letter["headers"]["properties"]) == headers
    assert set(letter["headers"]["required"]) == headers
    assert letter["headers"]["additionalProperties"], "the original headers are kept"
    assert "type" not in letter["payload"], "the original value is any bytes"


def test_the_re_drive_marker_is_described_as_the_cli_writes_it() -> None:
    marker = resolve(ASYNCAPI, ASYNCAPI["channels"]["dead-letters"]["messages"]["DeadLetterRedriven"]["$ref"])
    assert marker["headers"]["required"] == [REDRIVE_OF]
    written = Redrive("t.deployment", 0, 7, datetime(2026, 11, 28, 7, tzinfo=UTC)).marker()
    jsonschema_rs.validate(marker["payload"], written)
    assert set(marker["payload"]["required"]) == set(written)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_json_schema_declares_its_dialect_and_is_valid_under_it(name: str) -> None:
    schema = json.loads(FILES[name])
    assert schema["$schema"] == JSON_SCHEMA_DIALECT, name
    jsonschema_rs.meta.validate(schema)
    assert schema["$id"]
