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
    channels["dead-letters"] = {
        "address": topics.dead_letters,
        "description": "Records no consumer could read: original bytes, key and headers plus dlq-* headers",
        "messages": {},
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
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Lifecycle events",
            "version": "1",
            "description": f"Topics are <namespace>.<stream>. {_KEYS}",
        },
        "channels": channels,
        "components": {"messages": messages},
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
    schema["$id"] = "urn:lifecycle:schema:envelope"
    schema["description"] = "CloudEvents 1.0 structured-mode envelope with Lifecycle's extensions"
    return schema


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    paths = write()
    print(f"wrote {len(paths)} schemas under {ROOT}", file=sys.stderr)
