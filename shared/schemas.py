"""Writes one JSON Schema per registered event and command into schemas/ (`make schemas`).

The models are the source of truth; tests/unit/test_schemas.py fails when schemas/ is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import shared.events  # noqa: F401  (registers every event)
from shared.envelope import Envelope
from shared.messages import Command, registry

ROOT = Path(__file__).resolve().parent.parent / "schemas"


def render() -> dict[str, str]:
    """Relative path -> file content, for every schema the project publishes."""
    files: dict[str, str] = {"envelope.json": _dump(_envelope_schema())}
    for model in sorted(registry, key=lambda m: (m.type_name, m.version)):
        kind = "commands" if issubclass(model, Command) else "events"
        schema = model.model_json_schema()
        schema["$id"] = model.schema_id()
        schema["title"] = model.type_name
        schema["x-lifecycle"] = {"version": model.version, "stream": model.stream.value, "subject": model.subject_field}
        files[f"{kind}/{model.type_name}.v{model.version}.json"] = _dump(schema)
    return files


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
