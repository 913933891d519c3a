"""schemas/ is generated from the models; this fails when someone changes one without the other."""

from __future__ import annotations

import json

from shared.contract.catalog import ALL_COMMANDS
from shared.contract.schemas import ROOT, render


def test_schemas_directory_matches_the_models() -> None:
    expected = render()
    on_disk = {str(path.relative_to(ROOT)): path.read_text() for path in ROOT.glob("**/*.json")}
    missing = sorted(set(expected) - set(on_disk))
    extra = sorted(set(on_disk) - set(expected))
    changed = sorted(name for name in set(expected) & set(on_disk) if expected[name] != on_disk[name])
    assert not (missing or extra or changed), (
        f"schemas/ is out of date (run `make schemas`): missing={missing} extra={extra} changed={changed}"
    )


def test_every_event_schema_names_its_version_and_stream() -> None:
    for name, content in render().items():
        if name.startswith("events/"):
            assert '"x-lifecycle"' in content, name


def test_every_command_has_a_schema_and_travels_on_its_owners_stream_only() -> None:
    files = render()
    asyncapi = json.loads(files["asyncapi.json"])
    assert ALL_COMMANDS, "the catalog lists no command"
    for command in ALL_COMMANDS:
        schema = json.loads(files[f"commands/{command.type_name}.v{command.version}.json"])
        assert schema["x-lifecycle"]["stream"] == command.stream.value
        assert {"command_id", "deployment_id", "actor"} <= set(schema["required"])
        carriers = [name for name, ch in asyncapi["channels"].items() if command.type_name in ch["messages"]]
        assert carriers == [command.stream.value], command.type_name
        payload = asyncapi["components"]["messages"][command.type_name]["payload"]["allOf"][1]
        assert payload["properties"]["data"]["$ref"] == f"commands/{command.type_name}.v{command.version}.json"
