"""schemas/ is generated from the models; this fails when someone changes one without the other."""

from __future__ import annotations

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
