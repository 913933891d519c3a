"""`lifecycle activate|deactivate|delete|erase|importance|relabel|share|revoke|clear-stats|register` and the
change requests (`change-requests list|show`, `approve`, `reject`, `cancel-request`): the actions
service's commands, each waiting for its outcome (tools.cli.outcome)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table
from rich.text import Text

from shared.contract.commands import replacement as replacement_commands
from shared.contract.envelope import derived_id
from tools.cli.common import JsonFlag, bad_input, client, emit, not_found
from tools.cli.outcome import DeploymentId, Outcome, Request, change_request_opened, waits
from tools.cli.times import FORMS, parse_time

Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail; shown to reviewers)")]
ChangeRequestId = Annotated[str, typer.Argument(help="The change request id", show_default=False)]
HELD_BY_REPLACEMENT = {
    c.type_name
    for c in (
        replacement_commands.ReplaceModel,
        replacement_commands.RollbackModel,
        replacement_commands.PromoteChallenger,
    )
}


def _action(verb: str, deployment_id: str, body: Any, done: str) -> Request:
    """POST /deployments/{id}/{verb}; a command that opened a change request instead says so."""

    def describe(outcome: Outcome) -> str:
        opened = derived_id(outcome.command_id, "change-request")
        requests = outcome.http.get(f"/deployments/{deployment_id}/change-requests")
        held = next((r for r in requests if r["id"] == opened), None)
        return done if held is None else change_request_opened(outcome, opened, held["action"])

    return Request("actions", "POST", f"/deployments/{deployment_id}/{verb}", body, f"{verb} {deployment_id}", describe)


@waits
def register(
    file: Annotated[
        Path,
        typer.Argument(
            help="A JSON `POST /deployments` body (label, model_package, …); - for stdin",
            allow_dash=True,
            show_default=False,
        ),
    ],
    deployment_id: Annotated[str | None, typer.Option("--id", help="The deployment id (overrides the file's)")] = None,
) -> Request:
    """Register a deployment no serving platform announced (you become its first OWNER)."""
    text = typer.get_text_stream("stdin").read() if str(file) == "-" else _read(file)
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise bad_input(f"{file} is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise bad_input(f"{file} must hold one JSON object, the deployment to register")
    if deployment_id is not None:
        body["id"] = deployment_id
    what = f"register {body.get('id') or 'deployment'}"
    return Request("actions", "POST", "/deployments", body, what, lambda o: f"registered {o.accepted['deployment_id']}")


def _read(file: Path) -> str:
    try:
        return file.read_text()
    except OSError as error:
        raise bad_input(f"cannot read {file}: {error.strerror}") from None


@waits
def activate(deployment_id: DeploymentId) -> Request:
    """Activate a deployment."""
    return _action("activate", deployment_id, None, f"activated {deployment_id}")


@waits
def deactivate(deployment_id: DeploymentId, reason: Reason = "") -> Request:
    """Deactivate a deployment (on a HIGH or CRITICAL one this opens a change request to approve)."""
    return _action("deactivate", deployment_id, {"reason": reason}, f"deactivated {deployment_id}")


@waits
def delete(deployment_id: DeploymentId, reason: Reason = "") -> Request:
    """Delete a deployment (soft: it can then only be erased; HIGH or CRITICAL ones need approval)."""
    done = f"deleted {deployment_id} (it can now only be erased: `lifecycle erase {deployment_id}`)"
    return _action("delete", deployment_id, {"reason": reason}, done)


@waits
def erase(deployment_id: DeploymentId, reason: Reason = "") -> Request:
    """Erase a deleted deployment for good (admins): projections keep a tombstone, the log its events."""
    return _action("erase", deployment_id, {"reason": reason}, f"erased {deployment_id}")


@waits
def importance(
    deployment_id: DeploymentId,
    level: Annotated[str, typer.Argument(help="LOW, MODERATE, HIGH or CRITICAL", show_default=False)],
    reason: Reason = "",
) -> Request:
    """Change a deployment's importance (lowering one that needs approval opens a change request)."""
    body = {"importance": level.upper(), "reason": reason}
    return _action("importance", deployment_id, body, f"importance of {deployment_id} is now {level.upper()}")


@waits
def relabel(
    deployment_id: DeploymentId,
    label: Annotated[str | None, typer.Option("--label", help="The new label")] = None,
    description: Annotated[str | None, typer.Option("--description", help="The new description")] = None,
    tags: Annotated[list[str] | None, typer.Option("--tag", help="NAME=VALUE; replaces every tag (repeat it)")] = None,
) -> Request:
    """Change a deployment's label, description or tags (what is not given stays)."""
    body: dict[str, Any] = {"label": label, "description": description}
    if tags is not None:
        body["tags"] = [dict(zip(("name", "value"), tag.split("=", 1), strict=False)) for tag in tags]
    body = {name: value for name, value in body.items() if value is not None}
    if not body:
        raise bad_input("say what to change: --label, --description or --tag")
    return _action("settings", deployment_id, body, f"changed {', '.join(body)} of {deployment_id}")


@waits
def share(
    deployment_id: DeploymentId,
    principal: Annotated[str, typer.Argument(help="The user (or, with --group, the group)", show_default=False)],
    role: Annotated[str, typer.Option("--role", help="OWNER, USER or CONSUMER")] = "USER",
    group: Annotated[bool, typer.Option("--group", help="PRINCIPAL is a group")] = False,
) -> Request:
    """Grant a user or a group a role on a deployment (replacing the role it had)."""
    body = {"principal": principal, "principal_type": "group" if group else "user", "role": role.upper()}
    return _action("share", deployment_id, body, f"shared {deployment_id} with {principal} as {role.upper()}")


@waits
def revoke(
    deployment_id: DeploymentId,
    principal: Annotated[str, typer.Argument(help="The user or group", show_default=False)],
) -> Request:
    """Revoke a user's or group's role on a deployment (the last OWNER stays)."""
    return _action("revoke", deployment_id, {"principal": principal}, f"revoked {principal}'s role on {deployment_id}")


@waits
def clear_stats(
    deployment_id: DeploymentId,
    start: Annotated[str | None, typer.Option("--from", help=f"From; default: all time. {FORMS}")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Until (exclusive); default: now")] = None,
    package: Annotated[str | None, typer.Option("--package", help="Only this model package's statistics")] = None,
) -> Request:
    """Clear a deployment's monitoring statistics, for all time or [--from, --to)."""
    span = {"start": start and parse_time(start, "--from"), "end": end and parse_time(end, "--to")}
    body = {k: v.isoformat() for k, v in span.items() if v} | ({"model_package_id": package} if package else {})
    told = f" from {start or 'the start'} to {end or 'now'}" if start or end else ""
    return _action("clear-statistics", deployment_id, body, f"cleared the statistics of {deployment_id}{told}")


def _review(deployment_id: str, change_request_id: str, verb: str, body: Any, done: Any) -> Request:
    path = f"/deployments/{deployment_id}/change-requests/{change_request_id}/{verb}"
    return Request("actions", "POST", path, body, f"{verb} {change_request_id}", done)


@waits
def approve(
    deployment_id: DeploymentId,
    change_request_id: ChangeRequestId,
    comment: Annotated[str, typer.Option("--comment", help="Kept with the approval")] = "",
) -> Request:
    """Approve another owner's change request: its held command runs now."""

    def describe(outcome: Outcome) -> str:
        held = _change_request(outcome.http.get(f"/deployments/{deployment_id}/change-requests"), change_request_id)
        approved = f"approved change request {change_request_id} on {deployment_id}"
        if held["action"] in HELD_BY_REPLACEMENT:
            runs = derived_id(change_request_id, "approved")
            return (
                f"{approved}; the replacement service now runs its {held['action']}: "
                f"`lifecycle command {runs} --service replacement`"
            )
        return f"{approved}: its {held['action']} ran"

    return _review(deployment_id, change_request_id, "approve", {"comment": comment}, describe)


@waits
def reject(
    deployment_id: DeploymentId,
    change_request_id: ChangeRequestId,
    reason: Annotated[str, typer.Option("--reason", "--comment", help="Why (kept with the rejection)")] = "",
) -> Request:
    """Reject another owner's change request: its held command never runs."""
    done = f"rejected change request {change_request_id} on {deployment_id}"
    return _review(deployment_id, change_request_id, "reject", {"comment": reason}, done)


@waits
def cancel_request(deployment_id: DeploymentId, change_request_id: ChangeRequestId) -> Request:
    """Withdraw your own change request."""
    done = f"canceled change request {change_request_id} on {deployment_id}"
    return _review(deployment_id, change_request_id, "cancel", None, done)


change_requests = typer.Typer(help="A deployment's change requests (commands held for approval).", no_args_is_help=True)


@change_requests.command("list")
def list_change_requests(
    deployment_id: DeploymentId,
    status: Annotated[str | None, typer.Option("--status", help="open, approved, rejected, canceled, expired")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Open change requests and the recently closed ones, oldest first."""
    params = {"status": status.lower()} if status else None
    requests = client("actions").get(f"/deployments/{deployment_id}/change-requests", params)

    def table() -> Table | Text:
        if not requests:
            return Text(f"{deployment_id} has no change requests" + (f" {status}" if status else ""))
        columns = ("id", "action", "status", "requested_by", "requested_at", "expires_at", "reason", "closed_by")
        grid = Table(*(column.replace("_", " ") for column in columns))
        for r in requests:
            grid.add_row(*(str(r[column] or "") for column in columns))
        return grid

    emit(requests, as_json, table)


@change_requests.command("show")
def show_change_request(
    deployment_id: DeploymentId, change_request_id: ChangeRequestId, as_json: JsonFlag = False
) -> None:
    """One change request: the held command's changes and what became of it."""
    held = _change_request(client("actions").get(f"/deployments/{deployment_id}/change-requests"), change_request_id)
    lines = [f"{name:<13}{value}" for name, value in held.items() if name != "changes"]
    lines += [f"  {name}: {value}" for name, value in held["changes"].items()]
    emit(held, as_json, lambda: Text("\n".join(lines)))


def _change_request(requests: list[dict[str, Any]], change_request_id: str) -> dict[str, Any]:
    found = next((r for r in requests if r["id"] == change_request_id), None)
    if found is None:
        raise not_found(f"change request {change_request_id} not found (or closed long ago)")
    return found


def register_commands(app: typer.Typer) -> None:
    """Add the actions verbs to `app`."""
    for verb in (register, activate, deactivate, delete, erase, importance, relabel, share, revoke):
        app.command()(verb)
    app.command("clear-stats")(clear_stats)
    app.add_typer(change_requests, name="change-requests")
    app.command()(approve)
    app.command()(reject)
    app.command("cancel-request")(cancel_request)
