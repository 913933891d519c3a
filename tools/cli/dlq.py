"""`lifecycle dlq list|show|redrive`: the dead letters, why each was lettered, and re-driving them to the
topic they came from (shared.messaging.redrive)."""

from __future__ import annotations

import asyncio
import enum
from typing import Annotated, Any

import orjson
import typer
from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table

from shared.messaging.dead_letters import Header
from shared.messaging.redrive import Attempt, Letter, read_letters, redrive
from tools.cli.common import EXIT_CODES_HELP, CliError, Exit, JsonFlag, bad_input, emit, errors, not_found, settings
from tools.cli.times import FORMS, parse_time

dlq = typer.Typer(
    help="Dead letters: records a service could not read or apply, with the reason; re-drive them once the "
    f"cause is fixed.\n\n{EXIT_CODES_HELP}.",
    no_args_is_help=True,
)


class Status(enum.StrEnum):
    pending = "pending"
    redriven = "redriven"
    failed_again = "failed-again"


Service = Annotated[str | None, typer.Option("--service", help="Only letters of this service (e.g. inventory)")]
Code = Annotated[str | None, typer.Option("--code", help="Only this error code (e.g. unknown-type)")]
Type = Annotated[str | None, typer.Option("--type", help="Only this message type (e.g. DeploymentCreated)")]
Since = Annotated[str | None, typer.Option("--since", help=f"Only letters from this time on: {FORMS}")]
Until = Annotated[str | None, typer.Option("--until", help="Only letters before this time (same forms)")]
State = Annotated[Status | None, typer.Option("--status", help="Only letters in this state")]


def _filtered(
    letters: list[Letter],
    service: str | None,
    code: str | None,
    kind: str | None,
    since: str | None,
    until: str | None,
    status: Status | None,
) -> list[Letter]:
    start = parse_time(since, "--since") if since else None
    end = parse_time(until, "--until") if until else None
    return [
        letter
        for letter in letters
        if (service is None or letter.header(Header.SERVICE) == service)
        and (code is None or letter.header(Header.CODE) == code)
        and (kind is None or letter.type == kind)
        and (start is None or letter.failed_at >= start)
        and (end is None or letter.failed_at < end)
        and (status is None or letter.status == status.value)
    ]


def _letters() -> list[Letter]:
    s = settings()
    return asyncio.run(read_letters(s.kafka.bootstrap_servers, s.topics.dead_letters))


@dlq.command("list")
def list_letters(
    service: Service = None,
    code: Code = None,
    kind: Type = None,
    since: Since = None,
    until: Until = None,
    status: State = None,
    limit: Annotated[int, typer.Option(help="Show the newest N", min=1)] = 100,
    as_json: JsonFlag = False,
) -> None:
    """Dead letters, oldest first, each once: when, which service, the error code and reason, the message
    type, where it came from, and its state: pending, redriven (a copy was sent back), failed-again (the
    copy was lettered again: that letter is listed as a retry of this one)."""
    chosen = _filtered(_letters(), service, code, kind, since, until, status)[-limit:]
    emit([_summary(letter) for letter in chosen], as_json, lambda: _table(chosen))


@dlq.command("show")
def show(
    letter_id: Annotated[str, typer.Argument(metavar="ID", help="A letter id, or a unique prefix of one")],
    as_json: JsonFlag = False,
) -> None:
    """One dead letter whole: its headers, the reason, its re-drives and the payload."""
    letter = _one(_letters(), letter_id)
    emit(_whole(letter), as_json, lambda: _render_whole(letter))


@dlq.command("redrive")
def redrive_letters(
    letter_ids: Annotated[list[str] | None, typer.Argument(metavar="[ID]...", help="Letter ids or prefixes")] = None,
    service: Service = None,
    code: Code = None,
    kind: Type = None,
    since: Since = None,
    until: Until = None,
    every: Annotated[bool, typer.Option("--all", help="Every pending letter (when no ID or filter is given)")] = False,
    again: Annotated[bool, typer.Option("--again", help="Also letters re-driven before")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Send them; without it, only list what would be sent")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Send chosen letters back, unchanged, to the partition of the topic they came from, e.g. once the
    schema or code that refused them is fixed. Dry by default: without --yes it lists what it would send.

    Chosen by ID, or by the filters, or --all; letters re-driven before are left out unless --again (a
    re-drive is recorded on the dead-letter topic). Consumers drop an event id they applied already, so a
    letter is applied at most once. A letter whose re-drive fails (its source topic is gone, the send
    fails) stays pending; the command then says which and exits 1."""
    filters = (service, code, kind, since, until)
    if not letter_ids and not every and all(f is None for f in filters):
        raise bad_input("choose letters: give IDs, a filter (--service, --code, --type, --since, --until) or --all")
    letters = _letters()
    if letter_ids:
        chosen = [_one(letters, letter_id) for letter_id in dict.fromkeys(letter_ids)]
        chosen = _filtered(chosen, *filters, None)
    else:
        chosen = _filtered(letters, *filters, None)
    skipped = [letter for letter in chosen if letter.redrives and not again]
    chosen = [letter for letter in chosen if again or not letter.redrives]
    if skipped:
        errors.print(f"{len(skipped)} letters re-driven before left out (--again to include them)")
    if not yes:
        report = {"dry_run": True, "would_redrive": [_summary(letter) for letter in chosen]}
        emit(report, as_json, lambda: Group(_table(chosen), f"{len(chosen)} letters would be re-driven; add --yes"))
        return
    s = settings()
    attempts = asyncio.run(redrive(s.kafka.bootstrap_servers, s.topics.dead_letters, chosen))
    failed = [a for a in attempts if a.error]
    emit([_attempt(a) for a in attempts], as_json, lambda: _attempts(attempts))
    if failed:
        raise CliError(f"{len(failed)} of {len(attempts)} re-drives failed; those letters stay pending", Exit.FAILED)


def _one(letters: list[Letter], wanted: str) -> Letter:
    found = [letter for letter in letters if letter.id == wanted] or [
        letter for letter in letters if letter.id.startswith(wanted)
    ]
    if not found:
        raise not_found(f"no dead letter {wanted!r} (see lifecycle dlq list)")
    if len(found) > 1:
        raise bad_input(f"{wanted!r} names {len(found)} letters; give more of the id")
    return found[0]


def _where(letter: Letter) -> str:
    source = letter.source
    return f"{source[0]}[{source[1]}]@{source[2]}" if source else "?"


def _summary(letter: Letter) -> dict[str, Any]:
    return {
        "id": letter.id,
        "failed_at": letter.failed_at.isoformat(),
        "service": letter.header(Header.SERVICE),
        "code": letter.header(Header.CODE),
        "reason": letter.header(Header.REASON),
        "type": letter.type,
        "event_id": letter.event_id,
        "key": letter.record.key.decode(errors="replace") if letter.record.key else None,
        "source": _where(letter),
        "status": letter.status,
        "redrives": [
            {"topic": r.topic, "partition": r.partition, "offset": r.offset, "at": r.at.isoformat()}
            for r in letter.redrives
        ],
        "retry_of": letter.retry_of,
        "retried_as": letter.retried_as,
    }


def _table(letters: list[Letter]) -> Table:
    table = Table("id", "failed at", "service", "code", "reason", "type", "key", "source", "status")
    table.title = f"{len(letters)} dead letters"
    for letter in letters:
        status = letter.status + (f" (retry of {letter.retry_of[:8]})" if letter.retry_of else "")
        key = letter.record.key.decode(errors="replace") if letter.record.key else ""
        table.add_row(
            letter.id[:8],
            letter.failed_at.strftime("%Y-%m-%d %H:%M:%S"),
            letter.header(Header.SERVICE),
            letter.header(Header.CODE),
            letter.header(Header.REASON),
            letter.type,
            key,
            _where(letter),
            status,
        )
    return table


def _payload(letter: Letter) -> Any:
    value = letter.record.value or b""
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value.decode(errors="replace")


def _whole(letter: Letter) -> dict[str, Any]:
    headers = [(k, v.decode(errors="replace")) for k, v in letter.record.headers]
    return {
        **_summary(letter),
        "headers": dict(headers),
        "topic_position": f"{letter.record.topic}[{letter.record.partition}]@{letter.record.offset}",
        "payload": _payload(letter),
    }


def _render_whole(letter: Letter) -> RenderableType:
    whole = _whole(letter)
    facts = Table(show_header=False, box=None)
    for name in ("id", "failed_at", "service", "code", "reason", "type", "event_id", "key", "source", "status"):
        facts.add_row(name, str(whole[name] or ""))
    for r in letter.redrives:
        facts.add_row("re-driven", f"{r.at.isoformat()} to {r.topic}[{r.partition}]@{r.offset}")
    if letter.retry_of:
        facts.add_row("retry of", letter.retry_of)
    headers = Table("header", "value", title="headers")
    for name, value in whole["headers"].items():
        headers.add_row(name, value)
    payload = whole["payload"]
    body = orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() if not isinstance(payload, str) else payload
    return Group(facts, headers, Syntax(body, "json", word_wrap=True))


def _attempt(attempt: Attempt) -> dict[str, Any]:
    r = attempt.redrive
    return {
        "id": attempt.letter.id,
        "redriven": r is not None,
        "to": f"{r.topic}[{r.partition}]@{r.offset}" if r else None,
        "error": attempt.error,
    }


def _attempts(attempts: list[Attempt]) -> RenderableType:
    table = Table("id", "type", "result", title=f"{len(attempts)} letters re-driven")
    for a in attempts:
        r = a.redrive
        result = f"sent to {r.topic}[{r.partition}]@{r.offset}" if r else ""
        if a.error:
            result = f"{result}; {a.error}" if result else f"failed: {a.error}"
        table.add_row(a.letter.id[:8], a.letter.type, result)
    return table
