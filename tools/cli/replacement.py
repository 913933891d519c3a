"""`lifecycle validate|replace|rollback|model-history` and `challenger add|remove|promote|list`: the
replacement service's dry run, its commands (each waiting for its outcome, tools.cli.outcome) and the
model history."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Group
from rich.table import Table
from rich.text import Text

from shared.contract.envelope import derived_id
from shared.contract.events.values import ReplacementReason
from tools.cli.common import CliError, Exit, JsonFlag, client, emit
from tools.cli.outcome import DeploymentId, IdempotencyKey, Outcome, Request, change_request_opened, waits

Package = Annotated[
    str, typer.Argument(help="A model package registered with the replacement service", show_default=False)
]
ChallengerId = Annotated[
    str, typer.Argument(help="The challenger id (see `lifecycle challenger list`)", show_default=False)
]
Reason = Annotated[ReplacementReason, typer.Option("--reason", case_sensitive=False, help="Why the model changes")]
Note = Annotated[str, typer.Option("--note", help="Free text kept in the model history")]
MARKS = {"passing": "PASS", "warning": "WARN", "failing": "FAIL"}


def checks_lines(checks: dict[str, Any], only_noteworthy: bool = False) -> list[str]:
    """One line per check: PASS/WARN/FAIL, its name and its message."""
    return [
        f"  {MARKS.get(check['status'], check['status'])}  {name:<20} {check.get('message', '')}"
        for name, check in checks.items()
        if not only_noteworthy or check["status"] != "passing"
    ]


def validate(
    deployment_id: DeploymentId,
    package: Package,
    idempotency_key: IdempotencyKey = None,
    as_json: JsonFlag = False,
) -> None:
    """Dry run: check a package against the deployment's current model, changing nothing.

    Prints each check (PASS, WARN, FAIL); exits 1 when one fails (the package could not replace the model)."""
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    answer = client("replacement").post(
        f"/deployments/{deployment_id}/model:validate", {"model_package_id": package}, headers=headers
    )
    head = f"{package} for {deployment_id} (now {answer['current_model_package_id'] or 'no model'}): {answer['status']}"
    emit(answer, as_json, lambda: Text("\n".join([head, *checks_lines(answer["checks"])])))
    if answer["status"] == "failing":
        raise CliError(f"{package} cannot replace the model of {deployment_id}: {answer['message']}", Exit.FAILED)


def _change(verb: str, path: str, body: Any, deployment_id: str) -> Request:
    """A change of champion: what now serves and its checks, or the change request it opened."""

    def describe(outcome: Outcome) -> str:
        history = outcome.http.get(f"/deployments/{deployment_id}/model-history")
        opened = outcome.accepted.get("change_request_id") or derived_id(outcome.command_id, "change-request")
        held = next((r for r in history["change_requests"] if r["id"] == opened), None)
        if held is not None:
            return change_request_opened(outcome, opened, held["action"])
        served = history["history"]
        at = next((i for i, e in enumerate(served) if e["event_id"] in outcome.status["event_ids"]), None)
        if at is None:  # not in the history (any more): the command completed all the same
            return f"{verb} on {deployment_id} completed"
        entry = served[at]
        was = f" (was {served[at - 1]['model_package']['id']})" if at > 0 else ""
        head = (
            f"{entry['action'].replace('_', ' ')}: {entry['model_package']['id']} now serves {deployment_id}{was}; "
            f"checks {entry['validation_status']}"
        )
        return "\n".join([head, *checks_lines(entry["checks"], only_noteworthy=True)])

    return Request("replacement", "POST", path, body, f"{verb} {deployment_id}", describe)


@waits
def replace(
    deployment_id: DeploymentId, package: Package, reason: Reason = ReplacementReason.OTHER, note: Note = ""
) -> Request:
    """Make a registered package the deployment's model, through the checks.

    A failing check refuses it; on a HIGH or CRITICAL deployment it opens a change request to approve."""
    body = {"model_package_id": package, "reason": reason.value, "note": note}
    return _change("replace", f"/deployments/{deployment_id}/model:replace", body, deployment_id)


@waits
def rollback(deployment_id: DeploymentId, reason: Reason = ReplacementReason.OTHER, note: Note = "") -> Request:
    """Back to the model before the current one (again: further back), through the same checks."""
    body = {"reason": reason.value, "note": note}
    return _change("rollback", f"/deployments/{deployment_id}/model:rollback", body, deployment_id)


challenger = typer.Typer(help="A deployment's challengers: models scored beside the champion.", no_args_is_help=True)


@challenger.command("add")
@waits
def add_challenger(
    deployment_id: DeploymentId,
    package: Package,
    environment: Annotated[str | None, typer.Option("--environment", help="Prediction environment id")] = None,
) -> Request:
    """Add a registered package as a challenger (five at most)."""
    body = {"model_package_id": package} | ({"prediction_environment_id": environment} if environment else {})
    return Request(
        "replacement",
        "POST",
        f"/deployments/{deployment_id}/challengers",
        body,
        f"add challenger {package} to {deployment_id}",
        lambda o: f"added challenger {o.accepted['challenger_id']} ({package}) to {deployment_id}",
    )


@challenger.command("remove")
@waits
def remove_challenger(deployment_id: DeploymentId, challenger_id: ChallengerId) -> Request:
    """Remove a challenger."""
    path = f"/deployments/{deployment_id}/challengers/{challenger_id}"
    done = f"removed challenger {challenger_id} from {deployment_id}"
    return Request("replacement", "DELETE", path, None, f"remove challenger {challenger_id}", done)


@challenger.command("promote")
@waits
def promote_challenger(
    deployment_id: DeploymentId, challenger_id: ChallengerId, reason: Reason = ReplacementReason.OTHER, note: Note = ""
) -> Request:
    """Make a challenger the champion (a replacement by its package, through the same checks)."""
    path = f"/deployments/{deployment_id}/challengers/{challenger_id}:promote"
    return _change("promote", path, {"reason": reason.value, "note": note}, deployment_id)


@challenger.command("list")
def list_challengers(deployment_id: DeploymentId, as_json: JsonFlag = False) -> None:
    """The deployment's challengers."""
    found = client("replacement").get(f"/deployments/{deployment_id}/model-history")["challengers"]
    grid = Table("id", "package", "name", "added at", "added by")
    for c in found:
        grid.add_row(c["id"], c["model_package"]["id"], c["model_package"]["name"], c["added_at"], c["added_by"] or "")
    emit(found, as_json, lambda: grid if found else Text(f"{deployment_id} has no challengers"))


def model_history(deployment_id: DeploymentId, as_json: JsonFlag = False) -> None:
    """The champion, the challengers and every change of model, oldest first, with who, why and the checks."""
    history = client("replacement").get(f"/deployments/{deployment_id}/model-history")
    champion = history["champion"]

    def render() -> Group:
        head = Text(
            f"{deployment_id}: {history['status']}, importance {history['importance']}; champion "
            f"{champion['id'] + ' (' + champion['name'] + ')' if champion else 'none'}; "
            f"{len(history['challengers'])} challenger(s)"
        )
        grid = Table("from", "until", "action", "package", "reason", "by", "checks", "note")
        for e in history["history"]:
            grid.add_row(
                e["started_at"],
                e["ended_at"] or "now",
                e["action"],
                e["model_package"]["id"],
                e["reason"] or "",
                e["actor"] or "",
                e["validation_status"] or "",
                e["note"],
            )
        held = [f"change request {r['id']}: {r['action']} {r['status']}" for r in history["change_requests"]]
        return Group(head, grid, *(Text(line) for line in held))

    emit(history, as_json, render)


def register_commands(app: typer.Typer) -> None:
    """Add the replacement verbs to `app`."""
    app.command()(validate)
    app.command()(replace)
    app.command()(rollback)
    app.add_typer(challenger, name="challenger")
    app.command("model-history")(model_history)
