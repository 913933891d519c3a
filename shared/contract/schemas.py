"""Writes one JSON Schema per registered event and command into schemas/ (`make schemas`).

The models are the source of truth; tests/unit/test_schemas.py fails when schemas/ is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shared.contract.catalog import contract_registry
from shared.contract.envelope import Envelope
from shared.contract.messages import Command
from shared.contract.topology import Stream, Topics

ROOT = Path(__file__).resolve().parent.parent.parent / "schemas"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""What pydantic generates (`model_json_schema`), declared in every schema file."""
_KEYS = (
    "Records are keyed by subject and partitioned by murmur2 of the key, the default of the Java client and "
    "aiokafka; librdkafka clients (kcat, confluent-kafka) must set partitioner=murmur2_random. Consumers "
    "count and log records on another partition or without a key, and still apply them (folding is "
    "order-independent). Every time carries a UTC offset."
)


def render() -> dict[str, str]:
    """Relative path -> file content, for every schema the project publishes."""
    files: dict[str, str] = {"envelope.json": _dump(_envelope_schema())}
    for model in sorted(contract_registry(), key=lambda m: (m.type_name, m.version)):
        kind = "commands" if issubclass(model, Command) else "events"
        schema = model.model_json_schema()
        schema["$schema"] = JSON_SCHEMA_DIALECT
        schema["$id"] = model.schema_id()
        schema["title"] = model.type_name
        schema["x-lifecycle"] = {"version": model.version, "stream": model.stream.value, "subject": model.subject_field}
        files[f"{kind}/{model.type_name}.v{model.version}.json"] = _dump(schema)
    files["asyncapi.json"] = _dump(asyncapi(files))
    return files


def asyncapi(files: dict[str, str]) -> dict[str, Any]:
    """An AsyncAPI 3.0 description of every topic (default namespace) and the messages it carries."""
    topics = Topics("lifecycle")
    registry = contract_registry()
    channels: dict[str, Any] = {}
    for stream in Stream:
        models = [m for m in registry if m.stream is stream]
        channels[stream.value] = {
            "address": topics.for_stream(stream),
            "description": "Kafka key: the CloudEvents subject (deployment id; package id for the registry), murmur2",
            "messages": {m.type_name: {"$ref": f"#/components/messages/{m.type_name}"} for m in models},
        }
    channels[DEAD_LETTERS] = {
        "address": topics.dead_letters,
        "description": "Records no consumer could read: original bytes, key and headers plus dlq-* headers",
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in (DEAD_LETTER, REDRIVE_MARKER)},
    }
    messages = {
        m.type_name: {
            "name": m.type_name,
            "contentType": "application/cloudevents+json",
            "summary": (m.__doc__ or m.type_name).strip().splitlines()[0],
            "payload": {
                "allOf": [
                    {"$ref": "envelope.json"},
                    {"properties": {"type": {"const": m.type_name}, "data": {"$ref": path}}},
                ]
            },
        }
        for m in registry
        for path in [f"{'commands' if issubclass(m, Command) else 'events'}/{m.type_name}.v{m.version}.json"]
        if path in files
    }
    messages[DEAD_LETTER] = _dead_letter_message()
    messages[REDRIVE_MARKER] = _redrive_marker_message()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Lifecycle events",
            "version": "1",
            "description": f"Topics are <namespace>.<stream>. {_KEYS}",
        },
        "channels": channels,
        "operations": _operations(channels),
        "components": {"messages": messages},
    }


DEAD_LETTERS = "dead-letters"
DEAD_LETTER = "DeadLetter"
REDRIVE_MARKER = "DeadLetterRedriven"
REDRIVE_OF = "dlq-redrive-of"
"""Held equal to shared.messaging.redrive.REDRIVE_OF by tests/unit/shared/test_contract_documents.py."""
_PARTIES: dict[str, tuple[str, str]] = {
    Stream.DEPLOYMENT.value: (
        "The actions, replacement and retraining services (the outcomes of their commands), and upstream "
        "systems announcing deployments",
        "The inventory, actions, replacement and retraining services",
    ),
    Stream.MONITORING.value: (
        "Monitoring and serving platforms (predictions, health, accuracy)",
        "The inventory and the retraining service",
    ),
    Stream.REGISTRY.value: ("The model registry and the trainer (new model packages)", "The replacement service"),
    Stream.ACTIONS_COMMANDS.value: ("The actions service's HTTP API, and upstream systems", "The actions service"),
    Stream.REPLACEMENT_COMMANDS.value: (
        "The replacement service's HTTP API, and upstream systems",
        "The replacement service",
    ),
    Stream.RETRAINING_COMMANDS.value: (
        "The retraining service's HTTP API and scheduler, and upstream systems",
        "The retraining service",
    ),
    Stream.TRAINING_JOBS.value: (
        "The retraining service (jobs) and trainers (their progress)",
        "Trainers and the retraining service",
    ),
    DEAD_LETTERS: (
        "Every consumer, for a record it cannot read or apply",
        "Operators (`lifecycle dlq list|show|redrive`), which re-drive letters to their source topic",
    ),
}
"""Who sends to and who receives from each channel, for the operations' descriptions."""


def _operations(channels: dict[str, Any]) -> dict[str, Any]:
    """A send and a receive operation for every channel, each with all the channel's messages."""
    operations: dict[str, Any] = {}
    for name, channel in channels.items():
        senders, receivers = _PARTIES[name]
        for action, parties in (("send", senders), ("receive", receivers)):
            operations[f"{action}-{name}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{name}"},
                "summary": f"{'Publish to' if action == 'send' else 'Consume'} {channel['address']}",
                "description": parties,
                "messages": [{"$ref": f"#/channels/{name}/messages/{message}"} for message in channel["messages"]],
            }
    return operations


def _dead_letter_message() -> dict[str, Any]:
    """A dead letter: the original record's value, unchanged, under the original key, with the original
    headers and these `dlq-*` ones. Named here, not imported: the contract depends on no plumbing;
    tests/unit/shared/test_contract_documents.py holds them equal to shared.messaging.dead_letters.Header."""
    described = {
        "dlq-id": "The letter's id: the same for every attempt to letter the record at this position",
        "dlq-error-code": "Why, for programs: a stable kebab-case code (e.g. `invalid-json`, `unknown-type`)",
        "dlq-error": "Why, for people",
        "dlq-source-topic": "The topic the record was read from (where a re-drive sends it back)",
        "dlq-source-partition": "Its partition there (decimal)",
        "dlq-source-offset": "Its offset there (decimal)",
        "dlq-service": "The service that could not read it",
        "dlq-group": "That service's consumer group",
        "dlq-failed-at": "When (ISO 8601 with offset)",
    }
    return {
        "name": DEAD_LETTER,
        "summary": "A record no consumer could read or apply, as it was, with why",
        "description": "The payload is the original record's value, byte for byte (it may not be JSON, or be "
        "empty); the key is the original key. Every original header is kept next to the `dlq-*` ones.",
        "contentType": "application/octet-stream",
        "payload": {"description": "The original record's value, unchanged"},
        "headers": {
            "type": "object",
            "properties": {name: {"type": "string", "description": text} for name, text in described.items()},
            "required": sorted(described),
            "additionalProperties": {"description": "The original record's headers, unchanged"},
        },
    }


def _redrive_marker_message() -> dict[str, Any]:
    """What `lifecycle dlq redrive` writes beside a letter it sent back, so every reader of the topic knows
    the letter was re-driven, and where its copy went."""
    return {
        "name": REDRIVE_MARKER,
        "summary": "A letter was sent back to its source topic (a re-drive)",
        "description": "Keyed by the letter's id. A copy that fails again is lettered again from its new "
        "position (topic, partition, offset below), so its new letter can be traced to this one.",
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "properties": {
                "topic": {"type": "string", "description": "Where the copy was sent"},
                "partition": {"type": "integer", "minimum": 0},
                "offset": {"type": "integer", "minimum": 0},
                "at": {"type": "string", "format": "date-time", "description": "When"},
            },
            "required": ["topic", "partition", "offset", "at"],
        },
        "headers": {
            "type": "object",
            "properties": {REDRIVE_OF: {"type": "string", "description": "The id (`dlq-id`) of the letter re-driven"}},
            "required": [REDRIVE_OF],
        },
    }


def write(root: Path = ROOT) -> list[Path]:
    for stale in root.glob("**/*.json"):
        stale.unlink()
    written = []
    for relative, content in render().items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        written.append(path)
    return written


def _envelope_schema() -> dict[str, Any]:
    schema = Envelope.model_json_schema()
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = "urn:lifecycle:schema:envelope"
    schema["description"] = "CloudEvents 1.0 structured-mode envelope with Lifecycle's extensions"
    return schema


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    paths = write()
    print(f"wrote {len(paths)} schemas under {ROOT}", file=sys.stderr)
