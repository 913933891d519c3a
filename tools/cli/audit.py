"""`lifecycle history` and `lifecycle at`: a deployment's audit trail and its past state, both from the log
(not from the projection, which keeps only the present)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from services.inventory.domain.evolve import evolve
from services.inventory.domain.state import DeploymentView
from services.inventory.entrypoints.api_models import DeploymentOut, ModelHistoryOut
from shared.contract.events.values import DeploymentStatus
from tools.cli.common import CliError, Exit, JsonFlag, emit, errors, not_found
from tools.cli.inventory import deployment_card
from tools.cli.log import INVENTORY_STREAMS, TRAIL_STREAMS, DeploymentLog, read_deployment
from tools.cli.times import FORMS, parse_time
from tools.cli.trail import Entry, trail

DeploymentId = Annotated[str, typer.Argument(help="The deployment id", metavar="DEPLOYMENT", show_default=False)]


def history(deployment_id: DeploymentId, as_json: JsonFlag = False) -> None:
    """The audit trail of a deployment from the log, oldest first: who, what, when, why, and the command
    behind each event with its outcome (completed, rejected with its code, held for approval, pending)."""
    log = _read(deployment_id)
    entries = trail(log.items)
    data = {
        "deployment_id": deployment_id,
        "entries": [entry.json() for entry in entries],
        "unreadable": [str(record) for record in log.unreadable],
    }
    emit(data, as_json, lambda: _trail_table(deployment_id, entries, log))


def _trail_table(deployment_id: str, entries: list[Entry], log: DeploymentLog) -> RenderableType:
    table = Table(title=f"audit trail of {deployment_id}: {len(entries)} entries", title_justify="left")
    table.add_column("time (UTC)", no_wrap=True)
    table.add_column("who", no_wrap=True)
    table.add_column("what", no_wrap=True)
    table.add_column("details (why)", ratio=3)
    table.add_column("command / outcome", ratio=2)
    for entry in entries:
        details = entry.summary + (f" ({entry.why})" if entry.why and entry.why not in entry.summary else "")
        if entry.kind == "command":
            what, cause = Text(f"{entry.type}", style="cyan"), _outcome(entry.outcome)
        else:
            what = Text(entry.type)
            cause = Text(f"by {entry.command_type} {(entry.command_id or '')[:8]}" if entry.command_id else "")
        table.add_row(f"{entry.time:%Y-%m-%d %H:%M:%S.%f}"[:-3], entry.actor or "", what, details, cause)
    if not log.unreadable:
        return table
    skipped = "\n".join(f"  {record}" for record in log.unreadable)
    return Group(table, Text(f"{len(log.unreadable)} records of it cannot be read (not in the trail):\n{skipped}"))


def _outcome(outcome: str | None) -> Text:
    if outcome is None:
        return Text("")
    style = "red" if outcome.startswith("rejected") else "yellow" if not outcome.startswith("completed") else "green"
    return Text(outcome, style=style)


def at(
    deployment_id: DeploymentId,
    time: Annotated[str, typer.Argument(help=f"When: {FORMS}", metavar="TIME", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """The deployment as it was at TIME, folded from the log with the inventory's own code: the view the
    inventory's API would have answered then (`--json`: the same shape as GET /deployments/{id})."""
    moment = parse_time(time)
    log = _read(deployment_id, past=True)
    view = state_at(log, moment)
    when = moment.isoformat().replace("+00:00", "Z")
    if view is None or not view.created:
        raise not_found(f"deployment {deployment_id} did not exist yet at {when}")
    if view.status is DeploymentStatus.ERASED:
        raise not_found(f"deployment {deployment_id} was erased at {when}")
    # Ages and the last 7 days of predictions are counted back from TIME, as the API would have then.
    body = DeploymentOut.of(view, moment).model_dump(mode="json")
    history = [ModelHistoryOut.of(entry).model_dump(mode="json") for entry in view.model_history]
    emit(body, as_json, lambda: deployment_card(body, history, f"{deployment_id}  {view.label}  (as at {when})"))


def state_at(log: DeploymentLog, moment: datetime) -> DeploymentView | None:
    """The fold of the events with an event time at or before `moment` (the projection's state once it had
    them all; the fold does not depend on their order)."""
    view: DeploymentView | None = None
    for item in log.items:
        if item.envelope.time <= moment:
            view = evolve(view, item.recorded)
    return view


def _read(deployment_id: str, past: bool = False) -> DeploymentLog:
    log = asyncio.run(read_deployment(deployment_id, INVENTORY_STREAMS if past else TRAIL_STREAMS))
    if not log.items and not log.unreadable:
        raise not_found(f"deployment {deployment_id} not found in the log")
    if not log.items:
        raise CliError(
            f"deployment {deployment_id}: none of its {len(log.unreadable)} records in the log can be read "
            f"(first: {log.unreadable[0]})",
            Exit.FAILED,
        )
    if log.unreadable:
        errors.print(
            f"lifecycle: warning: {len(log.unreadable)} records of {deployment_id} cannot be read and are left out",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
    return log
