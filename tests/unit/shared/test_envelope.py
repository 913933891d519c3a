"""The envelope in both CloudEvents content modes, and the reasons it gives for bad input."""

from __future__ import annotations

import base64
from datetime import datetime

import orjson
import pytest
from pydantic import ValidationError

from shared.contract.catalog import contract_registry
from shared.contract.envelope import InvalidMessage, derived_id, from_record, open_envelope, to_structured, wrap
from shared.contract.events import DeploymentActivated, PredictionsRecorded
from shared.contract.messages import Event, MessageRegistry
from tests.support import at

registry = contract_registry()


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


def _structured(**attributes: object) -> bytes:
    event = {
        "specversion": "1.0",
        "id": "e1",
        "type": "PredictionsRecorded",
        "source": "upstream",
        "subject": "d1",
        "time": "2026-11-27T12:00:00Z",
        "data": {"deployment_id": "d1", "count": 3, "predicted_at": "2026-11-27T12:00:00+02:00"},
    }
    return orjson.dumps({**event, **attributes})


def test_an_envelope_time_without_utc_offset_is_a_bad_envelope() -> None:
    with pytest.raises(InvalidMessage) as caught:
        from_record(_structured(time="2026-11-27T12:00:00"), [])
    assert caught.value.code == "bad-envelope"
    assert "time" in caught.value.reason
    binary = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"e1"),
        ("ce_type", b"DeploymentActivated"),
        ("ce_source", b"up"),
        ("ce_subject", b"d1"),
        ("ce_time", b"2026-11-27T12:00:00"),
    ]
    with pytest.raises(InvalidMessage, match="bad-envelope"):
        from_record(orjson.dumps({"deployment_id": "d1"}), binary)


@pytest.mark.parametrize(
    ("type_name", "data"),
    [
        ("PredictionsRecorded", {"deployment_id": "d1", "count": 3, "predicted_at": "2026-11-27T12:00:00"}),
        ("ServiceHealthChanged", {"deployment_id": "d1", "status": "passing", "window": {"start": "2026-11-27"}}),
        ("DeploymentStatisticsCleared", {"deployment_id": "d1", "end": "2026-11-27T00:00:00"}),
        (
            "RetrainingRunStarted",
            {
                "deployment_id": "d1",
                "run_id": "r",
                "policy_id": "p",
                "trigger": "manual",
                "started_at": "2026-11-27T12:00:00",
            },
        ),
    ],
)
def test_a_payload_time_without_utc_offset_is_a_schema_violation(type_name: str, data: dict[str, object]) -> None:
    envelope = from_record(_structured(type=type_name, data=data), [])
    with pytest.raises(InvalidMessage) as caught:
        open_envelope(envelope, registry)
    assert caught.value.code == "schema-violation"
    assert "timezone" in caught.value.reason


def test_times_with_any_offset_are_accepted() -> None:
    envelope = from_record(_structured(time="2026-11-27T14:00:00+02:00"), [])
    message = open_envelope(envelope, registry)
    assert envelope.time == at(0).replace(day=27)
    assert isinstance(message, PredictionsRecorded)
    assert message.predicted_at.utcoffset() is not None


def test_structured_data_base64_is_decoded_like_data() -> None:
    data = {"deployment_id": "d1", "count": 3, "predicted_at": "2026-11-27T12:00:00Z"}
    plain = from_record(_structured(data=data), [])
    encoded = base64.b64encode(orjson.dumps(data)).decode()
    value = orjson.loads(_structured(data_base64=encoded))
    del value["data"]
    assert from_record(orjson.dumps(value), []) == plain


@pytest.mark.parametrize(
    ("data_base64", "keep_data", "code"),
    [
        (base64.b64encode(b"{}").decode(), True, "bad-envelope"),
        ("%%% not base64", False, "bad-envelope"),
        (base64.b64encode(b"\x00\x01 binary").decode(), False, "not-json"),
        (base64.b64encode(b"[1, 2]").decode(), False, "bad-envelope"),
    ],
)
def test_bad_data_base64_says_why(data_base64: str, keep_data: bool, code: str) -> None:
    value = orjson.loads(_structured(data_base64=data_base64))
    if not keep_data:
        del value["data"]
    with pytest.raises(InvalidMessage) as caught:
        from_record(orjson.dumps(value), [])
    assert caught.value.code == code


def test_messages_cannot_be_built_with_naive_times() -> None:
    with pytest.raises(ValidationError):
        PredictionsRecorded(deployment_id="d1", count=1, predicted_at=datetime(2026, 11, 27, 12))
    with pytest.raises(ValidationError):
        wrap(DeploymentActivated(deployment_id="d1"), source="s", time=datetime(2026, 11, 27, 12))
