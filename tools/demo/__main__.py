"""Entry point: find the stack, pick this run's ids, play the journey, print where to look next.

Exits 0 when every step happened, 1 with one line when one did not, 130 on Ctrl-C (no traceback)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tools.cli.common import CliSettings, console, errors
from tools.demo import fleet
from tools.demo.journey import Journey
from tools.demo.stack import DemoFailed, Stack

ROOT = Path(__file__).resolve().parents[2]
MAX_RUNS = 100


def free_suffix(stack: Stack) -> str:
    """'' on a stack without a demo, else '-N' for the first N whose deployment id nobody holds."""
    for n in range(1, MAX_RUNS + 1):
        suffix = "" if n == 1 else f"-{n}"
        probe = f"/deployments/{fleet.RETRAINED.base_id}{suffix}/change-requests"
        if stack.found("actions", probe) is None:
            return suffix
    raise DemoFailed(f"{MAX_RUNS} demo runs already on this stack; start afresh with make clean")


def main() -> int:
    settings = CliSettings()
    home = Path(os.getenv("LIFECYCLE_HOME", ROOT / ".local"))
    try:
        probe = Stack(settings, "demo")
        try:
            probe.ready()
            suffix = free_suffix(probe)
        finally:
            probe.close()
        stack = Stack(settings, f"demo{suffix}")
        try:
            console.print(f"[bold]demo[/bold] run demo{suffix}: deployments {fleet.RETRAINED.base_id}{suffix}, ...")
            Journey(stack, suffix, (home / "demo" / "churn.csv").resolve()).play()
        finally:
            stack.close()
    except DemoFailed as failure:
        errors.print(f"demo: {failure}", soft_wrap=True, markup=False, highlight=False)
        return 1
    except KeyboardInterrupt:
        errors.print("demo: interrupted", markup=False, highlight=False)
        return 130
    where(settings)
    return 0


def where(settings: CliSettings) -> None:
    inventory = settings.inventory_url.rstrip("/")
    console.print("\n[bold]Where to look[/bold]")
    console.print(f"   inventory web page   {inventory}/", highlight=False)
    for service in ("inventory", "actions", "replacement", "retraining"):
        url = str(getattr(settings, f"{service}_url")).rstrip("/")
        console.print(f"   {service + ' API':<20} {url}/docs", highlight=False)
    console.print("   command line         .venv/bin/lifecycle --help", highlight=False)


if __name__ == "__main__":
    sys.exit(main())
