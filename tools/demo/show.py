"""How the demo tells its story: numbered steps, one short line per outcome with where to look, and
the tables at the end (the inventory, the replacement checks, an audit trail)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from tools.cli.common import console

HEALTH_COLOURS = {"passing": "green", "warning": "yellow", "failing": "red", "unknown": "dim", "unavailable": "dim"}


class Narrator:
    def __init__(self) -> None:
        self.number = 0

    def step(self, title: str) -> None:
        self.number += 1
        console.print(f"\n[bold cyan]{self.number}. {escape(title)}[/bold cyan]")

    def say(self, text: str) -> None:
        console.print(f"   {escape(text)}", soft_wrap=True, highlight=False)

    def look(self, text: str) -> None:
        """Where to see it for yourself (a URL or a command)."""
        console.print(f"   [dim]look:[/dim] {escape(text)}", soft_wrap=True, highlight=False)


def health(status: str) -> str:
    return f"[{HEALTH_COLOURS.get(status, 'white')}]{status}[/]"


def inventory_table(views: list[dict[str, Any]]) -> Table:
    table = Table(title="the inventory (this run's deployments)", title_justify="left")
    for column in ("deployment", "importance", "status", "model", "service", "drift", "accuracy", "predictions"):
        table.add_column(column, justify="right" if column == "predictions" else "left")
    for view in views:
        h = view["health"]
        table.add_row(
            view["id"],
            view["importance"] or "-",
            view["status"] or "-",
            (view["model_package"] or {}).get("name", "-"),
            health(h["service"]["status"]),
            health(h["drift"]["status"]),
            health(h["accuracy"]["status"]),
            f"{view['predictions']['total']:,}",
        )
    return table


def checks_table(checks: dict[str, dict[str, Any]]) -> Table:
    table = Table("check", "status", "message", title="replacement checks", title_justify="left")
    for name, check in checks.items():
        table.add_row(name, health(str(check.get("status", "?"))), escape(str(check.get("message", ""))))
    return table


def audit_table(deployment_id: str, entries: list[dict[str, Any]]) -> Table:
    """The inventory's audit trail (`GET /deployments/{id}/audit`), oldest first."""
    table = Table("time (UTC)", "event", "actor", "what", title=f"audit trail of {deployment_id}")
    table.title_justify = "left"
    for entry in entries:
        time = entry["time"].replace("T", " ")[:19]
        table.add_row(time, entry["type"], entry.get("actor") or "", escape(entry.get("summary") or ""))
    return table
