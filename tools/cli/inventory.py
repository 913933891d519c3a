"""`lifecycle deployments list|show` and `lifecycle summary`: the inventory's read API as tables (or its JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from services.inventory.adapters.query import MAX_LIMIT, SORT_FIELDS
from services.inventory.domain.access import LISTED_STATUSES
from shared.contract.events.monitoring import HEALTH_DIMENSIONS
from shared.contract.events.values import HealthStatus, Importance, Platform, Role, TargetType
from tools.cli.common import JsonFlag, client, emit
from tools.cli.times import parse_time

deployments = typer.Typer(
    help="The deployment inventory: list with filters and sort, or one deployment.", no_args_is_help=True
)

HEALTH_COLOURS = {
    "passing": "green",
    "warning": "yellow",
    "failing": "red",
    "unknown": "grey50",
    "unavailable": "grey50",
}
SORT_KEYS = [*SORT_FIELDS, *(f"-{key}" for key in SORT_FIELDS)]


def _choice(values: list[str], help_text: str) -> Any:
    """An option with a fixed set of values, repeated or comma-separated for OR (`--status active,inactive`),
    matched case-insensitively and passed on as the API spells them."""
    canonical = {value.casefold(): value for value in values}

    def check(given: list[str] | None) -> list[str] | None:
        if not given:
            return given
        chosen = []
        for value in (part.strip() for item in given for part in item.split(",") if part.strip()):
            if value.casefold() not in canonical:
                raise typer.BadParameter(f"{value!r} is not one of {', '.join(values)}")
            chosen.append(canonical[value.casefold()])
        return chosen

    return typer.Option(help=f"{help_text}: {', '.join(values)}", metavar="VALUE", callback=check, show_default=False)


def _sort_option() -> Any:
    keys = _choice(SORT_KEYS, "Sort key, '-' first for descending (health: failing first)")
    callback = keys.callback

    def one(value: str) -> str:
        return str(callback([value])[0])

    keys.callback = one
    keys.show_default = True
    return keys


def _health_values(dimension: str) -> list[str]:
    return [s.value for s in HealthStatus if dimension == "accuracy" or s is not HealthStatus.UNAVAILABLE]


Time = Annotated[
    str | None, typer.Option(help="ISO 8601 with offset, or 2h, 3d, 1w ago", metavar="TIME", show_default=False)
]


@deployments.command("list")
def list_deployments(
    search: Annotated[
        str | None, typer.Option(help="Text in the label or description (any text)", metavar="TEXT", show_default=False)
    ] = None,
    status: Annotated[list[str] | None, _choice([s.value for s in LISTED_STATUSES], "Status (repeat for OR)")] = None,
    importance: Annotated[list[str] | None, _choice([i.value for i in Importance], "Importance")] = None,
    service_health: Annotated[list[str] | None, _choice(_health_values("service"), "Service health")] = None,
    drift_health: Annotated[list[str] | None, _choice(_health_values("drift"), "Data drift health")] = None,
    accuracy_health: Annotated[list[str] | None, _choice(_health_values("accuracy"), "Accuracy health")] = None,
    fairness_health: Annotated[list[str] | None, _choice(_health_values("fairness"), "Fairness health")] = None,
    platform: Annotated[list[str] | None, _choice([p.value for p in Platform], "Prediction platform")] = None,
    target_type: Annotated[list[str] | None, _choice([t.value for t in TargetType], "Champion target type")] = None,
    owner: Annotated[
        list[str] | None, typer.Option(help="Owned by this principal", metavar="PRINCIPAL", show_default=False)
    ] = None,
    created_by: Annotated[
        list[str] | None, typer.Option(help="Created by this user", metavar="USER", show_default=False)
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(help="Tag name (env) or name:value (env:prod)", metavar="TAG", show_default=False),
    ] = None,
    role: Annotated[list[str] | None, _choice([Role.OWNER.value, Role.USER.value], "Your role on it")] = None,
    created_after: Time = None,
    created_before: Time = None,
    last_prediction_after: Time = None,
    last_prediction_before: Time = None,
    sort: Annotated[str, _sort_option()] = "label",
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="Rows per page")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Rows to skip (the page's next_offset)")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Deployments you can see, filtered and sorted by the inventory (repeat an option for OR; options AND)."""
    lists = {
        "status": status, "importance": importance, "service_health": service_health, "drift_health": drift_health,
        "accuracy_health": accuracy_health, "fairness_health": fairness_health, "platform": platform,
        "target_type": target_type, "owner": owner, "created_by": created_by, "tag": tag, "role": role,
    }  # fmt: skip
    times = {
        "created_after": created_after, "created_before": created_before,
        "last_prediction_after": last_prediction_after, "last_prediction_before": last_prediction_before,
    }  # fmt: skip
    params: dict[str, Any] = {name: ",".join(values) for name, values in lists.items() if values}
    for name, text in times.items():
        if text:
            params[name] = parse_time(text, f"--{name.replace('_', '-')}").isoformat()
    params |= {"sort": sort, "limit": limit, "offset": offset, **({"search": search} if search else {})}
    page = client("inventory").get("/deployments", params)
    emit(page, as_json, lambda: deployment_table(page))


def deployment_table(page: dict[str, Any]) -> RenderableType:
    shown = f"{page['offset'] + 1}-{page['offset'] + len(page['data'])}" if page["data"] else "none"
    more = f"; next page: --offset {page['next_offset']}" if page.get("next_offset") is not None else ""
    table = Table(title=f"{page['count']} deployments (showing {shown}{more})", title_justify="left")
    for column in ("id", "label", "status", "importance", *HEALTH_DIMENSIONS, "predictions", "model", "owners"):
        table.add_column(column, justify="right" if column == "predictions" else "left")
    for d in page["data"]:
        table.add_row(
            d["id"], d["label"], d["status"] or "", d["importance"] or "",
            *(badge(d["health"][dimension]["status"]) for dimension in HEALTH_DIMENSIONS),
            str(d["predictions"]["total"]), (d.get("model_package") or {}).get("name", ""), ", ".join(d["owners"]),
        )  # fmt: skip
    return table


@deployments.command("show")
def show(
    deployment_id: Annotated[str, typer.Argument(help="The deployment id", metavar="DEPLOYMENT", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """One deployment: model, importance, status, health, predictions, owners and model history."""
    inventory = client("inventory")
    view = inventory.get(f"/deployments/{deployment_id}")
    if as_json:
        emit(view, True, lambda: "")
        return
    history = inventory.get(f"/deployments/{deployment_id}/model-history")
    emit(view, False, lambda: deployment_card(view, history))


def deployment_card(d: dict[str, Any], history: list[dict[str, Any]], title: str | None = None) -> RenderableType:
    """A deployment as `GET /deployments/{id}` returns it, with its model history."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    model = d.get("model_package") or {}
    environment = d.get("prediction_environment") or {}
    last = d["predictions"]["last_at"]
    rows = [
        ("status", d["status"] or "-"),
        ("importance", d["importance"] or "-"),
        ("model", f"{model.get('name', '-')} ({model.get('id', '-')}, {model.get('target_type', '-')})"),
        ("deployed", f"{_when(d['model_deployed_at'])} ({d['model_age_days']} days ago)"),
        ("environment", f"{environment.get('name', '-')} on {environment.get('platform', '-')}"),
        ("owners", ", ".join(d["owners"]) or "-"),
        ("created", f"{_when(d['created_at'])} by {d['created_by'] or '-'}"),
        ("predictions", f"{d['predictions']['total']} (last {_when(last)})"),
        ("tags", ", ".join(f"{t['name']}:{t['value']}" for t in d["tags"]) or "-"),
    ]
    if d.get("challengers"):
        rows.append(("challengers", ", ".join(c["model_package"]["name"] for c in d["challengers"])))
    if run := d.get("latest_retraining_run"):
        rows.append(("retraining", f"run {run['run_id']} {run['status']} ({run['step'] or '-'})"))
    for name, value in rows:
        facts.add_row(name, value)
    health = Table("health", "status", "message", "reported", title_justify="left")
    for dimension in HEALTH_DIMENSIONS:
        h = d["health"][dimension]
        health.add_row(dimension, badge(h["status"]), h["message"], _when(h["reported_at"]))
    models = Table("model history", "package", "reason", "by", "from", "until", title_justify="left")
    for entry in history:
        package = entry["model_package"]
        models.add_row(
            entry["action"], f"{package['name']} ({package['id']})", entry["reason"] or "", entry["actor"] or "",
            _when(entry["started_at"]), _when(entry["ended_at"]),
        )  # fmt: skip
    heading = Text.assemble((title or f"{d['id']}  {d['label']}", "bold"), f"\n{d['description']}".rstrip())
    return Group(heading, facts, health, models)


def badge(status: str) -> Text:
    return Text(status, style=HEALTH_COLOURS.get(status, ""))


def _when(value: str | datetime | None) -> str:
    if value is None:
        return "-"
    text = value.isoformat() if isinstance(value, datetime) else value
    return text.replace("T", " ").replace("+00:00", "Z")


def summary(as_json: JsonFlag = False) -> None:
    """The summary tiles: deployments by status, predictions, health counts by dimension."""
    tiles = client("inventory").get("/deployments/summary")
    emit(tiles, as_json, lambda: summary_tiles(tiles))


def summary_tiles(tiles: dict[str, Any]) -> RenderableType:
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(tiles["by_status"].items()))
    heading = Text.assemble(
        ("deployments ", "bold"), str(tiles["deployments"]), ("   active ", "bold"), str(tiles["active_deployments"]),
        ("   inactive ", "bold"), str(tiles["inactive_deployments"]), ("   predictions ", "bold"),
        str(tiles["predictions"]), f"\nby status: {statuses or '-'}",
    )  # fmt: skip
    columns = [s.value for s in HealthStatus]
    table = Table("health", *columns)
    for dimension in HEALTH_DIMENSIONS:
        table.add_row(dimension, *(str(tiles[dimension].get(c, 0)) for c in columns))
    return Group(heading, table)
