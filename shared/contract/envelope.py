"""CloudEvents 1.0 envelope over Kafka, in structured (JSON) and binary (`ce_*` headers) content modes.

`id` is the dedupe key, `subject` the deployment id (also the Kafka key), `dataschema` names the
payload's type version. The extensions `correlationid`, `causationid`, `actor` and `tenant` carry
who asked for what and why. Every time carries a UTC offset: a naive one is refused, never guessed.
A structured event may carry its data as `data_base64` (the spec's form for binary data); it must
decode to the same JSON object `data` would hold.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from shared.contract.messages import Message, MessageRegistry, UnknownMessageType

STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
_SCHEMA_VERSION = re.compile(r":v(\d+)$")
_ID_NAMESPACE = uuid.UUID("6f1c2d3e-8a4b-4c5d-9e6f-0a1b2c3d4e5f")

Headers = list[tuple[str, bytes]]


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    source: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    time: AwareDatetime
    dataschema: str | None = None
    datacontenttype: str = "application/json"
    correlationid: str | None = None
    causationid: str | None = None
    actor: str | None = None
    tenant: str = "default"
    data: dict[str, Any]

    @property
    def schema_version(self) -> int | None:
        match = _SCHEMA_VERSION.search(self.dataschema or "")
        return int(match.group(1)) if match else None


class InvalidMessage(ValueError):
    """Why a record cannot be applied; `code` is stable for operators, `reason` is for people."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def derived_id(cause_id: str, name: str) -> str:
    """An id that is the same every time the same cause produces the same output, so re-runs dedupe."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{cause_id}/{name}"))


def wrap(
    message: Message,
    *,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
    actor: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    tenant: str = "default",
) -> Envelope:
    event_id = event_id or str(uuid.uuid4())
    return Envelope(
        id=event_id,
        type=message.type_name,
        source=source,
        subject=message.subject,
        time=time or datetime.now(UTC),
        dataschema=message.schema_id(),
        correlationid=correlation_id or event_id,
        causationid=causation_id,
        actor=actor,
        tenant=tenant,
        data=message.model_dump(mode="json"),
    )


def to_structured(envelope: Envelope) -> tuple[bytes, Headers]:
    body = orjson.dumps(envelope.model_dump(mode="json", exclude_none=True))
    return body, [("content-type", STRUCTURED_CONTENT_TYPE.encode())]


def from_record(value: bytes | None, headers: Headers) -> Envelope:
    """Read an envelope in either content mode; raises InvalidMessage with the reason."""
    header_map = {key.lower(): raw for key, raw in headers}
    try:
        if "ce_specversion" in header_map:
            attributes: dict[str, Any] = {
                key[3:]: raw.decode() for key, raw in header_map.items() if key.startswith("ce_")
            }
            attributes["data"] = _json(value)
        else:
            attributes = _json(value)
            if not isinstance(attributes, dict) or "specversion" not in attributes:
                raise InvalidMessage("not-a-cloudevent", "JSON body has no CloudEvents 'specversion'")
            if "data_base64" in attributes:
                attributes = _inline_base64_data(attributes)
        return Envelope.model_validate(attributes)
    except UnicodeDecodeError as exc:
        raise InvalidMessage("bad-header", f"a ce_* header is not UTF-8: {exc}") from exc
    except ValidationError as exc:
        raise InvalidMessage("bad-envelope", _describe(exc)) from exc


def open_envelope(envelope: Envelope, registry: MessageRegistry) -> Message:
    """Validate the payload against its registered model; raises InvalidMessage with the reason."""
    try:
        message = registry.parse(envelope.type, envelope.schema_version, envelope.data)
    except UnknownMessageType as exc:
        raise InvalidMessage("unknown-type", str(exc)) from exc
    except ValidationError as exc:
        raise InvalidMessage("schema-violation", f"{envelope.type}: {_describe(exc)}") from exc
    if message.subject != envelope.subject:
        raise InvalidMessage(
            "schema-violation", f"subject {envelope.subject!r} differs from payload {message.subject!r}"
        )
    return message


def _json(value: bytes | None) -> Any:
    if not value:
        raise InvalidMessage("empty", "the record has no value")
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage("not-json", f"value is not JSON: {exc}") from exc


def _inline_base64_data(attributes: dict[str, Any]) -> dict[str, Any]:
    """The spec lets structured events carry data as base64; ours is JSON either way."""
    if "data" in attributes:
        raise InvalidMessage("bad-envelope", "an event carries either 'data' or 'data_base64', not both")
    encoded = attributes.pop("data_base64")
    try:
        raw = base64.b64decode(encoded, validate=True) if isinstance(encoded, str) else None
    except (binascii.Error, ValueError) as exc:
        raise InvalidMessage("bad-envelope", f"data_base64 is not base64: {exc}") from exc
    if raw is None:
        raise InvalidMessage("bad-envelope", "data_base64 is not a string")
    try:
        attributes["data"] = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage("not-json", f"data_base64 does not hold JSON: {exc}") from exc
    return attributes


def _describe(exc: ValidationError) -> str:
    problems = [f"{'.'.join(map(str, err['loc'])) or '<root>'}: {err['msg']}" for err in exc.errors()[:5]]
    return "; ".join(problems)
