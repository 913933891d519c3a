"""The envelope in both CloudEvents content modes, and the reasons it gives for bad input."""

from __future__ import annotations

import orjson
import pytest

from shared.contract.envelope import InvalidMessage, derived_id, from_record, open_envelope, to_structured, wrap
from shared.contract.events import DeploymentActivated, PredictionsRecorded
from shared.contract.messages import Event, MessageRegistry, registry
from tests.support import at


def test_structured_round_trip_keeps_every_attribute() -> None:
    message = PredictionsRecorded(deployment_id="d1", count=3, predicted_at=at(0))
    envelope = wrap(message, source="svc", actor="alice", correlation_id="c1", causation_id="e0", tenant="acme")
    value, headers = to_structured(envelope)
    decoded = from_record(value, headers)
    assert decoded == envelope
    assert decoded.schema_version == 1
    assert open_envelope(decoded, registry) == message


def test_binary_mode_reads_ce_headers_and_data_from_the_value() -> None:
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"e1"),
        ("ce_type", b"DeploymentActivated"),
        ("ce_source", b"up"),
        ("ce_subject", b"d1"),
        ("ce_time", b"2026-11-01T00:00:00Z"),
        ("ce_actor", b"bob"),
    ]
    envelope = from_record(orjson.dumps({"deployment_id": "d1"}), headers)
    assert envelope.actor == "bob"
    assert open_envelope(envelope, registry) == DeploymentActivated(deployment_id="d1")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (b"{not json", "not-json"),
        (b"", "empty"),
        (b'{"hello": 1}', "not-a-cloudevent"),
        (b'{"specversion": "1.0", "id": "x"}', "bad-envelope"),
    ],
)
def test_unreadable_records_say_why(value: bytes, code: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        from_record(value, [])
    assert caught.value.code == code


def test_unknown_type_and_schema_violation_and_subject_mismatch_are_distinguished() -> None:
    base = wrap(DeploymentActivated(deployment_id="d1"), source="s")
    with pytest.raises(InvalidMessage, match="unknown-type"):
        open_envelope(base.model_copy(update={"type": "Nope"}), registry)
    with pytest.raises(InvalidMessage, match="schema-violation"):
        open_envelope(base.model_copy(update={"data": {}}), registry)
    with pytest.raises(InvalidMessage, match="differs from payload"):
        open_envelope(base.model_copy(update={"subject": "d2"}), registry)


def test_derived_ids_are_stable_per_cause_and_name() -> None:
    assert derived_id("cmd-1", "activated") == derived_id("cmd-1", "activated")
    assert derived_id("cmd-1", "activated") != derived_id("cmd-2", "activated")


def test_old_versions_are_upcast_to_the_newest() -> None:
    from typing import ClassVar

    from shared.contract.topology import Stream

    local = MessageRegistry()

    class ThingV1(Event):
        type_name: ClassVar[str] = "Thing"
        stream: ClassVar[Stream] = Stream.DEPLOYMENT
        name: str

    class ThingV2(Event):
        type_name: ClassVar[str] = "Thing"
        version: ClassVar[int] = 2
        stream: ClassVar[Stream] = Stream.DEPLOYMENT
        first_name: str

    local.register(ThingV1)
    local.register(ThingV2)
    local.register_upcaster("Thing", 1, lambda data: {**data, "first_name": data["name"]})
    upgraded = local.parse("Thing", 1, {"deployment_id": "d", "name": "x"})
    assert upgraded == ThingV2(deployment_id="d", first_name="x")
    assert local.parse("Thing", None, {"deployment_id": "d", "first_name": "y"}) == ThingV2(
        deployment_id="d", first_name="y"
    )
