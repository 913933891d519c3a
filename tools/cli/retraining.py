"""`lifecycle retraining settings`, `policy create|list|show|run|delete` and `runs list|show|cancel`: the
retraining service's reads and commands (each command waiting for its outcome, tools.cli.outcome)."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from shared.contract.events.retraining import ModelAction, ModelingStrategy, ModelSelection, RunStatus
from tools.cli.common import CliError, Exit, JsonFlag, bad_input, client, emit
from tools.cli.outcome import (
    DEFAULT_TIMEOUT,
    DeploymentId,
    IdempotencyKey,
    NoWait,
    Outcome,
    Request,
    Timeout,
    Waiting,
    submit,
    waits,
)
from tools.cli.times import parse_span

PolicyId = Annotated[str, typer.Argument(help="The policy id (see `lifecycle policy list`)", show_default=False)]
RunId = Annotated[str, typer.Argument(help="The run id (see `lifecycle runs list`)", show_default=False)]
TRIGGERS = {
    "schedule": "schedule",
    "drift": "data_drift_decline",
    "data_drift_decline": "data_drift_decline",
    "accuracy": "accuracy_decline",
    "accuracy_decline": "accuracy_decline",
    "manual": "manual",
}
CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day_of_month", 1, 31), ("month", 1, 12), ("day_of_week", 0, 6))


def cron(text: str) -> dict[str, list[int]]:
    """`MIN HOUR DOM MON DOW` (UTC; `*`, numbers, `a-b`, `*/n`, `a-b/n`, commas) as the API's schedule."""
    fields = text.split()
    if len(fields) != len(CRON_FIELDS):
        raise bad_input(
            f"--cron {text!r}: give five fields, MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK (e.g. '0 3 * * 1')"
        )
    return {
        name: _cron_values(field, name, low, high) for field, (name, low, high) in zip(fields, CRON_FIELDS, strict=True)
    }


def _cron_values(field: str, name: str, low: int, high: int) -> list[int]:
    if field == "*":
        return []  # every value
    values: set[int] = set()
    for part in field.split(","):
        match = re.fullmatch(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?", part)
        if match is None:
            raise bad_input(f"--cron: {name} {part!r} is not a number, a range a-b, * or a step /n")
        first = low if match.group(1) == "*" else int(match.group(2))
        last = high if match.group(1) == "*" else int(match.group(3) or (high if match.group(4) else first))
        step = int(match.group(4) or 1)
        if not low <= first <= last <= high or step < 1:
            raise bad_input(f"--cron: {name} {part!r} is outside {low}-{high}")
        values.update(range(first, last + 1, step))
    return sorted(values)


def interval(text: str) -> str | int:
    """`6h`, `30m`, `2d` as seconds; anything else as it is (an ISO 8601 duration such as PT6H)."""
    span = parse_span(text)
    return int(span.total_seconds()) if span is not None else text


retraining = typer.Typer(help="A deployment's retraining settings.", no_args_is_help=True)


@retraining.command("settings")
def settings(
    deployment_id: DeploymentId,
    user: Annotated[str | None, typer.Option("--user", help="Runs not started by hand act as this OWNER")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="The CSV or Parquet path the trainer reads")] = None,
    environment: Annotated[str | None, typer.Option("--environment", help="Where challengers are scored")] = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    no_wait: NoWait = False,
    idempotency_key: IdempotencyKey = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the retraining settings, or set them with --user and --dataset (OWNER)."""
    if user is None and dataset is None and environment is None:
        shown = client("retraining").get(f"/deployments/{deployment_id}/retraining-settings")
        lines = [f"{k:<27}{v}" for k, v in shown.items() if v is not None]
        text = "\n".join(lines) if shown["configured"] else f"{deployment_id}: no retraining settings"
        emit(shown, as_json, lambda: Text(text))
        return
    if user is None or dataset is None:
        raise bad_input("to set the retraining settings give both --user and --dataset")
    body = {"retraining_user": user, "dataset_id": dataset}
    body |= {"prediction_environment_id": environment} if environment else {}
    path = f"/deployments/{deployment_id}/retraining-settings"
    done = f"retraining settings of {deployment_id}: {user} retrains on {dataset}"
    request = Request("retraining", "PUT", path, body, f"set the retraining settings of {deployment_id}", done)
    submit(request, Waiting(timeout, no_wait, idempotency_key, as_json))


policy = typer.Typer(
    help="A deployment's retraining policies: when to retrain, and what to do with the model.", no_args_is_help=True
)


@policy.command("create")
@waits
def create_policy(
    deployment_id: DeploymentId,
    name: Annotated[str, typer.Option("--name", help="The policy's name", show_default=False)],
    trigger: Annotated[str, typer.Option("--trigger", help="schedule, drift, accuracy or manual")] = "manual",
    schedule: Annotated[
        str | None, typer.Option("--cron", help="With --trigger schedule: 'MIN HOUR DOM MON DOW' in UTC")
    ] = None,
    on_warning: Annotated[
        bool, typer.Option("--on-warning/--not-on-warning", help="A decline to warning fires")
    ] = True,
    on_failing: Annotated[
        bool, typer.Option("--on-failing/--not-on-failing", help="A decline to failing fires")
    ] = True,
    still: Annotated[bool, typer.Option("--still-in-decline", help="Each report still in decline fires")] = False,
    min_interval: Annotated[str | None, typer.Option("--min-interval", help="Between automatic runs: 6h, PT6H")] = None,
    description: Annotated[str, typer.Option("--description")] = "",
    selection: Annotated[ModelSelection, typer.Option("--model-selection")] = ModelSelection.AUTOPILOT_RECOMMENDED,
    action: Annotated[ModelAction, typer.Option("--model-action")] = ModelAction.CREATE_CHALLENGER,
    strategy: Annotated[ModelingStrategy, typer.Option("--modeling-strategy")] = ModelingStrategy.SAME_AS_CHAMPION,
) -> Request:
    """Create a retraining policy (OWNER; needs the retraining settings; five at most)."""
    kind = TRIGGERS.get(trigger.lower())
    if kind is None:
        raise bad_input(f"--trigger {trigger!r}: use schedule, drift, accuracy or manual")
    if (kind == "schedule") != (schedule is not None):
        raise bad_input("--cron goes with --trigger schedule, and only with it")
    rule: dict[str, Any] = {
        "type": kind,
        "status_declines_to_warning": on_warning,
        "status_declines_to_failing": on_failing,
        "status_still_in_decline": still,
    }
    if schedule is not None:
        rule["schedule"] = cron(schedule)
    if min_interval is not None:
        rule["min_interval_between_runs"] = interval(min_interval)
    body = {
        "name": name,
        "description": description,
        "trigger": rule,
        "model_selection": selection.value,
        "model_action": action.value,
        "modeling_strategy": strategy.value,
    }

    def done(outcome: Outcome) -> str:
        policy_id = outcome.accepted["policy_id"]
        run_it = f"`lifecycle policy run {deployment_id} {policy_id}`"
        return f"created policy {policy_id} ({name}, {kind}) on {deployment_id}; run it now with {run_it}"

    path = f"/deployments/{deployment_id}/retraining-policies"
    return Request("retraining", "POST", path, body, f"create policy {name!r} on {deployment_id}", done)


@policy.command("list")
def list_policies(deployment_id: DeploymentId, as_json: JsonFlag = False) -> None:
    """The deployment's policies, each with its next scheduled time and latest run."""
    found = client("retraining").get(f"/deployments/{deployment_id}/retraining-policies")
    grid = Table("id", "name", "trigger", "model action", "next scheduled", "last fired", "latest run")
    for p in found["policies"]:
        latest = p["latest_run"]
        grid.add_row(
            p["id"],
            p["name"],
            p["trigger"]["type"],
            p["model_action"],
            p["next_scheduled_at"] or "",
            p["last_fired_at"] or "",
            f"{latest['id']} {latest['status']}" if latest else "",
        )
    empty = Text(f"{deployment_id} has no retraining policies (at most {found['limit']})")
    emit(found, as_json, lambda: grid if found["policies"] else empty)


@policy.command("show")
def show_policy(deployment_id: DeploymentId, policy_id: PolicyId, as_json: JsonFlag = False) -> None:
    """One policy: its trigger and bookkeeping, its latest run."""
    found = client("retraining").get(f"/deployments/{deployment_id}/retraining-policies/{policy_id}")
    emit(found, as_json, lambda: Text("\n".join(f"{k:<20}{v}" for k, v in found.items())))


@policy.command("run")
@waits
def run_policy(deployment_id: DeploymentId, policy_id: PolicyId) -> Request:
    """Start a run of the policy now, by hand (OWNER, USER); it waits its turn behind a run in progress."""

    def describe(outcome: Outcome) -> str:
        run_id = outcome.accepted["run_id"]
        follow = f"follow it with `lifecycle runs show {deployment_id} {run_id}`"
        try:
            run = outcome.http.get(f"/deployments/{deployment_id}/retraining-runs/{run_id}")
        except CliError as error:
            if error.code is not Exit.NOT_FOUND:
                raise
            return f"run {run_id} of policy {policy_id} waits its turn behind the run in progress; {follow}"
        return f"started run {run_id} of policy {policy_id} on {deployment_id} ({run['step']}); {follow}"

    path = f"/deployments/{deployment_id}/retraining-policies/{policy_id}/runs"
    return Request("retraining", "POST", path, None, f"run policy {policy_id}", describe)


@policy.command("delete")
@waits
def delete_policy(deployment_id: DeploymentId, policy_id: PolicyId) -> Request:
    """Delete a policy (its runs already started go on)."""
    path = f"/deployments/{deployment_id}/retraining-policies/{policy_id}"
    done = f"deleted policy {policy_id} of {deployment_id}"
    return Request("retraining", "DELETE", path, None, f"delete policy {policy_id}", done)


runs = typer.Typer(help="A deployment's retraining runs.", no_args_is_help=True)


@runs.command("list")
def list_runs(
    deployment_id: DeploymentId,
    policy_id: Annotated[str | None, typer.Option("--policy", help="Only this policy's runs")] = None,
    status: Annotated[RunStatus | None, typer.Option("--status", case_sensitive=False)] = None,
    as_json: JsonFlag = False,
) -> None:
    """Runs in progress and the latest finished ones, newest first."""
    params = {k: v for k, v in {"policy_id": policy_id, "status": status and status.value}.items() if v}
    found = client("retraining").get(f"/deployments/{deployment_id}/retraining-runs", params)["runs"]
    grid = Table("id", "policy", "status", "step", "cause", "started", "duration s", "package", "error")
    for r in found:
        grid.add_row(
            r["id"],
            r["policy_id"],
            r["status"],
            r["step"],
            r["cause"],
            r["started_at"],
            f"{r['duration_s']:.0f}" if r["duration_s"] is not None else "",
            r["model_package_id"] or "",
            r["error"] or "",
        )
    emit(found, as_json, lambda: grid if found else Text(f"{deployment_id} has no retraining runs"))


@runs.command("show")
def show_run(deployment_id: DeploymentId, run_id: RunId, as_json: JsonFlag = False) -> None:
    """One run: trigger and cause, step, the package it trained, its error."""
    found = client("retraining").get(f"/deployments/{deployment_id}/retraining-runs/{run_id}")
    emit(found, as_json, lambda: Text("\n".join(f"{k:<17}{v}" for k, v in found.items() if v not in (None, {}))))


@runs.command("cancel")
@waits
def cancel_run(deployment_id: DeploymentId, run_id: RunId) -> Request:
    """Cancel a run (not once it creates the challenger or replaces the model)."""
    path = f"/deployments/{deployment_id}/retraining-runs/{run_id}:cancel"
    return Request(
        "retraining", "POST", path, None, f"cancel run {run_id}", f"canceled run {run_id} of {deployment_id}"
    )


def register_commands(app: typer.Typer) -> None:
    """Add the retraining groups to `app`."""
    app.add_typer(retraining, name="retraining")
    app.add_typer(policy, name="policy")
    app.add_typer(runs, name="runs")
