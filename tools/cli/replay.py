"""`lifecycle replay SERVICE`: rebuild a service's collections from the log, compare them with the live
ones, and switch over only when asked (shared.storage.rebuild)."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.table import Table

from shared.messaging.replay import ReplayStats
from shared.storage.compare import Comparison, compare
from shared.storage.mongo import mongo_client, ping
from shared.storage.rebuild import Rebuild, RebuildError, Rename, drop, kept_before, rebuild_into, switch
from tools.cli.common import CliError, Exit, JsonFlag, bad_input, emit, errors, progress
from tools.cli.times import FORMS, parse_time


class Service(enum.StrEnum):
    inventory = "inventory"
    actions = "actions"
    replacement = "replacement"
    retraining = "retraining"


def _definition(service: Service) -> Rebuild:
    """The service's own settings (so `<SERVICE>_MONGO__DATABASE` etc. apply) and rebuild definition."""
    if service is Service.inventory:
        from services.inventory.adapters.rebuild import rebuild as inventory
        from services.inventory.settings import InventorySettings

        return inventory(InventorySettings())
    if service is Service.actions:
        from services.actions.adapters.rebuild import rebuild as actions
        from services.actions.settings import ActionsSettings

        return actions(ActionsSettings())
    if service is Service.replacement:
        from services.replacement.adapters.rebuild import rebuild as replacement
        from services.replacement.settings import ReplacementSettings

        return replacement(ReplacementSettings())
    from services.retraining.adapters.rebuild import rebuild as retraining
    from services.retraining.settings import RetrainingSettings

    return retraining(RetrainingSettings())


def replay(
    service: Annotated[Service, typer.Argument(help="Whose collections to rebuild")],
    since: Annotated[
        str | None, typer.Option(help=f"Read each partition from this time on, not from its start: {FORMS}")
    ] = None,
    into: Annotated[
        str | None, typer.Option(help="Name of the rebuilt collection [default: <collection>_rebuild_<time>]")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Rebuild into a temporary collection, compare, drop it")
    ] = False,
    switch_over: Annotated[
        bool, typer.Option("--switch", help="Make the rebuild the live collection (if it equals, see below)")
    ] = False,
    accept_differences: Annotated[
        bool, typer.Option("--accept-differences", help="With --switch: switch even though it differs")
    ] = False,
    keep: Annotated[bool, typer.Option("--keep", help="Keep a half-filled rebuild after a failure")] = False,
    undo: Annotated[
        str | None, typer.Option(metavar="STAMP", help="Undo the switch of that time stamp (printed by --switch)")
    ] = None,
    shown: Annotated[int, typer.Option("--show", help="Differences listed per collection", min=0)] = 20,
    as_json: JsonFlag = False,
) -> None:
    """Rebuild SERVICE's collections from the log into new ones (the live ones are not touched), compare them
    with the live ones document by document, and say what differs.

    Records are read from each topic's start (or --since) to the end it had when the replay began, with the
    service's own fold: the inventory through its projection code, the command services by folding the
    events of their topics (no command is decided again, nothing is published). The rebuild is kept under
    its name unless --dry-run; on any failure or Ctrl-C it is dropped (--keep keeps it).

    --switch renames the live collections to <collection>_before_<stamp> and the rebuild to the live name
    (stop the service first); it switches only when they are equal, or with --accept-differences (see them
    first with --dry-run). --undo STAMP switches back.

    Exit 0 when the rebuild equals the live collections (or was switched), 1 when they differ, 2 for bad
    input (e.g. --into names a collection that exists), 4 when Kafka or the database does not answer."""
    if dry_run and (switch_over or into):
        raise bad_input("--dry-run rebuilds into a temporary collection and switches nothing")
    if accept_differences and not switch_over:
        raise bad_input("--accept-differences goes with --switch")
    moment = parse_time(since, "--since") if since else None
    definition = _definition(service)
    if undo is not None:
        asyncio.run(_undo(definition, undo, as_json))
        return
    equal = asyncio.run(
        _replay(definition, moment, into, dry_run, switch_over, accept_differences, keep, shown, as_json)
    )
    if not equal:
        raise typer.Exit(int(Exit.FAILED))


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


async def _replay(
    definition: Rebuild,
    since: datetime | None,
    into: str | None,
    dry_run: bool,
    switch_over: bool,
    accept: bool,
    keep: bool,
    shown: int,
    as_json: bool,
) -> bool:
    stamp = _stamp()
    first = definition.targets[0].collection
    name = into or f"{first}_{'dryrun' if dry_run else 'rebuild'}_{stamp}"
    client = mongo_client(definition.mongo_url)
    try:
        await ping(client)  # unreachable says so at once, before Kafka is read
        db = client[definition.database]
        try:
            stats = await _with_progress(
                lambda sized, step: rebuild_into(
                    definition, db, name, since=since, sized=sized, progress=step, keep_on_failure=keep
                )
            )
        except RebuildError as error:
            raise bad_input(str(error)) from None
        try:
            names = definition.names(name)
            comparisons = [await compare(db, target, names[target.collection]) for target in definition.targets]
        finally:
            if dry_run:
                await asyncio.shield(drop(db, definition.collections(name)))
        equal = all(c.equal for c in comparisons)
        renames: list[Rename] = []
        if switch_over and (equal or accept):
            renames = await switch(definition, db, definition.names(name), stamp)
    finally:
        await client.close()
    report = _report(definition, name, since, stats, comparisons, dry_run, renames, stamp, shown)
    emit(report, as_json, lambda: _render(report, comparisons, shown))
    if switch_over and not renames:
        errors.print(f"not switched: the rebuild differs; {name} is kept. Add --accept-differences to switch anyway")
    return equal or bool(renames)


async def _undo(definition: Rebuild, stamp: str, as_json: bool) -> None:
    client = mongo_client(definition.mongo_url)
    try:
        await ping(client)
        try:
            renames = await switch(definition, client[definition.database], kept_before(definition, stamp), _stamp())
        except RebuildError as error:
            raise CliError(str(error), Exit.NOT_FOUND) from None
    finally:
        await client.close()
    moved = [{"from": r.source, "to": r.target} for r in renames]
    emit({"service": definition.service, "renamed": moved}, as_json, lambda: _renames(renames))


async def _with_progress(run: Callable[[Callable[[int], None], Callable[[int], None]], Any]) -> ReplayStats:
    with progress("reading the log") as bar:
        result: ReplayStats = await run(bar.size, bar.advance)
        return result


def _report(
    definition: Rebuild,
    name: str,
    since: datetime | None,
    stats: ReplayStats,
    comparisons: list[Comparison],
    dry_run: bool,
    renames: list[Rename],
    stamp: str,
    shown: int,
) -> dict[str, Any]:
    return {
        "service": definition.service,
        "database": definition.database,
        "rebuilt_into": None if dry_run else name,
        "dry_run": dry_run,
        "since": since.isoformat() if since else None,
        "records": stats.records,
        "applied": stats.applied,
        "skipped": [str(s) for s in stats.skipped],
        "equal": all(c.equal for c in comparisons),
        "collections": [c.summary(shown) for c in comparisons],
        "switched": [{"from": r.source, "to": r.target} for r in renames],
        "undo": f"lifecycle replay {definition.service} --undo {stamp}" if renames else None,
    }


def _render(report: dict[str, Any], comparisons: list[Comparison], shown: int) -> RenderableType:
    lines: list[RenderableType] = [f"read {report['records']} records, applied {report['applied']}"]
    if report["skipped"]:
        lines.append(f"skipped {len(report['skipped'])}: " + "; ".join(report["skipped"][:10]))
    for c in comparisons:
        verdict = "[green]equal[/green]" if c.equal else "[red]differs[/red]"
        lines.append(
            f"{c.collection}: {verdict}: live {c.live_count}, rebuilt {c.rebuilt_count}; "
            f"missing {len(c.missing)}, extra {len(c.extra)}, differing {len(c.differing)}"
        )
        if not c.equal and shown:
            table = Table("id", "difference", "fields", title=f"{c.collection} (first {shown} of each)")
            for key in c.missing[:shown]:
                table.add_row(key, "missing from the rebuild", "")
            for key in c.extra[:shown]:
                table.add_row(key, "only in the rebuild", "")
            for d in c.differing[:shown]:
                table.add_row(d.id, "differs", ", ".join(d.fields))
            for total in c.totals:
                table.add_row("(counters)", "differs", total)
            lines.append(table)
    if report["rebuilt_into"] and not report["switched"]:
        lines.append(f"rebuilt into {report['rebuilt_into']} (the live collections are untouched)")
    if report["switched"]:
        lines.append(_renames([Rename(r["from"], r["to"]) for r in report["switched"]]))
        lines.append(f"switched; to undo: {report['undo']}")
    return Group(*lines)


def _renames(renames: list[Rename]) -> RenderableType:
    table = Table("renamed", "to", title="collections renamed")
    for r in renames:
        table.add_row(r.source, r.target)
    return table
