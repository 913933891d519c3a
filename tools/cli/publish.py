"""`lifecycle publish FILE`: events or commands from JSON onto their topics, as an upstream system sends them.

Every item is checked against the contract before anything is sent: one invalid item and nothing is
published, so a file is never half applied.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from rich.table import Table

from shared.contract.catalog import contract_registry
from shared.contract.envelope import Envelope, InvalidMessage, from_record, open_envelope, wrap
from shared.contract.messages import Command, Message, MessageRegistry, UnknownMessageType
from shared.messaging.publisher import standalone_publisher
from tools.cli.common import CliError, Exit, JsonFlag, bad_input, check_broker, emit, errors, settings

SOURCE = "lifecycle-cli"


class ShortForm(BaseModel):
    """`{"type": "DeploymentCreated", "data": {...}}`; the envelope's other attributes are optional."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1)
    data: dict[str, Any]
    id: str | None = Field(default=None, min_length=1)
    time: AwareDatetime | None = None
    source: str = Field(default=SOURCE, min_length=1)
    actor: str | None = None
    correlationid: str | None = None
    causationid: str | None = None
    tenant: str = "default"


@dataclasses.dataclass(frozen=True)
class Checked:
    envelope: Envelope
    message: Message
    topic: str

    def json(self) -> dict[str, str]:
        e = self.envelope
        return {"type": e.type, "id": e.id, "topic": self.topic, "subject": e.subject, "time": e.time.isoformat()}


def publish(
    file: Annotated[
        Path,
        typer.Argument(
            help="JSON: one object, an array, or JSON lines; '-' reads stdin",
            metavar="FILE",
            allow_dash=True,
            show_default=False,
        ),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only validate; publish nothing")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Validate and publish events or commands. Each item is a CloudEvents structured event (with
    `specversion`) or `{"type": ..., "data": {...}}` (optional: id, time, source, actor, correlationid,
    causationid). Each goes to its message's topic, keyed by its subject. If any item is invalid, nothing
    is published and each problem is printed with its item's index (exit 2)."""
    items = parse_items(_read(file))
    checked, problems = validate(items, contract_registry())
    if problems:
        for problem in problems:
            errors.print(f"lifecycle: {problem}", soft_wrap=True, markup=False, highlight=False)
        raise CliError(f"{len(problems)} of {len(items)} items are invalid; nothing was published", Exit.BAD_INPUT)
    if not dry_run:
        asyncio.run(_send(checked))
    data = {"published": not dry_run, "items": [item.json() for item in checked]}
    emit(data, as_json, lambda: _table(checked, dry_run))


def _read(file: Path) -> str:
    if str(file) == "-":
        return sys.stdin.read()
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise bad_input(f"cannot read {file}: {getattr(error, 'strerror', None) or error}") from None


def parse_items(text: str) -> list[Any]:
    """One JSON document (an object or an array of them), else JSON lines."""
    if not text.strip():
        raise bad_input("the input is empty")
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as whole:
        lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
        items = []
        for number, line in lines:
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError as error:
                reason = whole if len(lines) == 1 else f"line {number}: {error}"
                raise bad_input(f"the input is neither JSON nor JSON lines ({reason})") from None
        return items
    return document if isinstance(document, list) else [document]


def validate(items: list[Any], registry: MessageRegistry) -> tuple[list[Checked], list[str]]:
    """Every item as an envelope and its message, or the problems, each with its item's index (from 0)."""
    topics = settings().topics
    checked, problems = [], []
    for index, item in enumerate(items):
        try:
            envelope, message = _checked(item, registry)
        except InvalidMessage as error:
            problems.append(f"item {index}: {error.code}: {error.reason}")
            continue
        checked.append(Checked(envelope, message, topics.for_stream(message.stream)))
    return checked, problems


def _checked(item: Any, registry: MessageRegistry) -> tuple[Envelope, Message]:
    if not isinstance(item, dict):
        raise InvalidMessage("not-an-object", f"expected a JSON object, got {type(item).__name__}")
    if "specversion" in item:
        envelope = from_record(orjson.dumps(item), [])
        return envelope, open_envelope(envelope, registry)
    try:
        short = ShortForm.model_validate(item)
    except ValidationError as error:
        raise InvalidMessage("bad-item", _describe(error)) from None
    try:
        message = registry.parse(short.type, None, short.data)
    except UnknownMessageType as error:
        raise InvalidMessage("unknown-type", str(error)) from None
    except ValidationError as error:
        raise InvalidMessage("schema-violation", f"{short.type}: {_describe(error)}") from None
    actor = short.actor or (message.actor.user if isinstance(message, Command) else None)
    # A command's envelope id is its command id, as the services' HTTP edges publish it.
    event_id = short.id or (message.command_id if isinstance(message, Command) else None)
    envelope = wrap(
        message,
        source=short.source,
        event_id=event_id,
        time=short.time,
        actor=actor,
        correlation_id=short.correlationid,
        causation_id=short.causationid,
        tenant=short.tenant,
    )
    return envelope, message


def _describe(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in error.errors()[:5])


async def _send(checked: list[Checked]) -> None:
    s = settings()
    await check_broker()
    async with standalone_publisher(s.kafka.bootstrap_servers, s.topics, source=SOURCE) as publisher:
        await publisher.publish_envelopes([c.envelope for c in checked], [c.message for c in checked])


def _table(checked: list[Checked], dry_run: bool) -> Table:
    verb = "valid (dry run: nothing published)" if dry_run else "published"
    table = Table("#", "type", "id", "topic", "subject", title=f"{len(checked)} {verb}", title_justify="left")
    for index, item in enumerate(checked):
        table.add_row(str(index), item.envelope.type, item.envelope.id, item.topic, item.envelope.subject)
    return table
