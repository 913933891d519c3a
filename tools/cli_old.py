"""`lifecycle`: the operators' command line — inventory, audit trail and time travel, projection
rebuilds by replay, dead letters."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from services.inventory.adapters.store import InventoryStore
from services.inventory.domain.evolve import evolve
from services.inventory.domain.state import HEALTH_DIMENSIONS, DeploymentView
from services.inventory.settings import InventorySettings
from shared.contract.catalog import contract_registry
from shared.contract.envelope import InvalidMessage, from_record
from shared.messaging.consumer import DeadLetter, Inbound, decode
from shared.messaging.dead_letters import Header
from shared.messaging.isolation import describe
from shared.messaging.publisher import standalone_publisher
from shared.messaging.reader import read_all
from shared.messaging.replay import Skipped, replay, summarize
from shared.service.settings import DEV_ADMIN_TOKEN, ServiceSettings
from shared.storage.mongo import mongo_client

app = typer.Typer(help=__doc__, no_args_is_help=True)
dead_letters = typer.Typer(help="List and re-drive the dead-letter topic.", no_args_is_help=True)
app.add_typer(dead_letters, name="dead-letters")
# Tables are wide: when the output is not a terminal (make run, CI logs) rich would assume 80 columns.
console = Console(width=None if sys.stdout.isatty() else 160)


class CliSettings(ServiceSettings):
    """The CLI reads the shared `LIFECYCLE_*` variables like every service."""

    service_name: str = "cli"
    inventory_url: str = f"http://127.0.0.1:{InventorySettings.service_defaults['http']['port']}"
    token: str = DEV_ADMIN_TOKEN


def _settings() -> CliSettings:
    return CliSettings()


def _get(path: str, params: dict[str, Any] | None = None) -> Any:
    s = _settings()
    response = httpx.get(
        f"{s.inventory_url}{path}", params=params, headers={"Authorization": f"Bearer {s.token}"}, timeout=10
    )
    if response.status_code >= 400:
        console.print(f"[red]{response.status_code}[/red] {response.json().get('detail', response.text)}")
        raise typer.Exit(1)
    return response.json()


@app.command()
def inventory(
    search: Annotated[str | None, typer.Option(help="Text in label or description")] = None,
    status: Annotated[str | None, typer.Option(help="e.g. active,inactive")] = None,
    sort: Annotated[str, typer.Option(help="label, -predictions, service_health, ...")] = "label",
    limit: int = 50,
) -> None:
    """The deployment inventory as a table."""
    params = {
        "sort": sort,
        "limit": limit,
        **({"search": search} if search else {}),
        **({"status": status} if status else {}),
    }
    page = _get("/deployments", params)
    table = Table(title=f"{page['count']} deployments")
    for column in ("id", "label", "status", "importance", *HEALTH_DIMENSIONS, "predictions", "model"):
        table.add_column(column)
    for d in page["data"]:
        health = [_badge(d["health"][dimension]["status"]) for dimension in HEALTH_DIMENSIONS]
        model = (d.get("model_package") or {}).get("name", "")
        table.add_row(d["id"], d["label"], d["status"], d["importance"], *health, str(d["predictions"]["total"]), model)
    console.print(table)


@app.command()
def summary() -> None:
    """The summary tiles."""
    tiles = _get("/deployments/summary")
    console.print(
        f"active deployments: [bold]{tiles['active_deployments']}[/bold]   predictions: {tiles['predictions']}"
    )
    table = Table("health", "passing", "warning", "failing", "unknown")
    for dimension in HEALTH_DIMENSIONS:
        t = tiles[dimension]
        table.add_row(dimension, *(str(t[k]) for k in ("passing", "warning", "failing", "unknown")))
    console.print(table)


@app.command()
def audit(
    deployment_id: str,
    at: Annotated[str | None, typer.Option(help="Also show the deployment as it was at this ISO time")] = None,
) -> None:
    """Every event of a deployment from the log, in order; with --at, its state at that time.

    A record of the deployment that cannot be read or folded is listed as skipped; the rest are shown."""
    moment = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else None
    if moment and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    items, skipped = asyncio.run(_events_of(deployment_id))
    items.sort(key=lambda item: (item.envelope.time, item.envelope.id))
    table = Table("time", "event", "actor", "source", "correlation", title=f"audit trail of {deployment_id}")
    view: DeploymentView | None = None
    shown = 0
    for item in items:
        e = item.envelope
        if moment is None or e.time <= moment:
            try:
                view = evolve(view, item.recorded)
            except Exception as error:  # the live consumer dead-letters it; here it is reported
                p = item.position
                skipped.append(Skipped(p.topic, p.partition, p.offset, "handler-error", describe(error)))
                continue
        table.add_row(e.time.isoformat(), e.type, e.actor or "", e.source, (e.correlationid or "")[:8])
        shown += 1
    console.print(table)
    console.print(f"shown {shown}, skipped {summarize(skipped)}", soft_wrap=True)
    if moment is not None:
        if view is None:
            console.print(f"{deployment_id} did not exist at {moment.isoformat()}")
            return
        model = view.model_package.name if view.model_package else "-"
        console.print(f"at {moment.isoformat()}: status={view.status} model={model} importance={view.importance}")
        for dimension in HEALTH_DIMENSIONS:
            console.print(f"  {dimension}: {getattr(view.health, dimension).status}")
        console.print(f"  predictions: {view.predictions.total}; owners: {', '.join(view.owners)}")


async def _events_of(deployment_id: str) -> tuple[list[Inbound], list[Skipped]]:
    """The deployment's events, each once, and its records that cannot be read.

    Records are found by key, and also by subject when they have no key or another one (producers
    with another partitioner); the cheap byte test spares decoding every other record."""
    s = _settings()
    topics = [s.topics.deployment_events, s.topics.monitoring_events]
    registry = contract_registry()
    key = deployment_id.encode()
    found: dict[str, Inbound] = {}
    skipped: list[Skipped] = []
    async for record in read_all(s.kafka.bootstrap_servers, topics):
        if record.key != key and not _mentions(record, key):
            continue
        item = decode(record, registry)
        if isinstance(item, DeadLetter):
            if record.key == key:
                skipped.append(Skipped.of(record, item.error.code, item.error.reason))
            continue
        # An event published twice is one fact: keep its first delivery.
        if item.envelope.subject == deployment_id and item.envelope.id not in found:
            found[item.envelope.id] = item
    return list(found.values()), skipped


def _mentions(record: Any, key: bytes) -> bool:
    return key in (record.value or b"") or any(key in value for _, value in record.headers)


@app.command("replay")
def replay_command(
    projection: Annotated[str, typer.Argument(help="Only 'inventory' has a projection so far")] = "inventory",
    collection: Annotated[str, typer.Option(help="Collection to rebuild into (must be empty)")] = "deployments_rebuilt",
) -> None:
    """Rebuild a projection from the log into an empty collection, with the live apply code."""
    if projection != "inventory":
        raise typer.BadParameter("only the inventory projection exists so far")
    asyncio.run(_replay_inventory(collection))


async def _replay_inventory(collection: str) -> None:
    s = InventorySettings()
    client = mongo_client(s.mongo.url)
    try:
        target = client[s.mongo.database][collection]
        if await target.estimated_document_count():
            console.print(f"[red]{collection} is not empty[/red]; drop it or choose another name")
            raise typer.Exit(1)
        store = InventoryStore(client[s.mongo.database], collection)
        await store.create_indexes()
        with Progress(console=console) as progress:
            task = progress.add_task("replaying", total=None)
            stats = await replay(
                s.kafka.bootstrap_servers,
                [s.topics.deployment_events, s.topics.monitoring_events],
                store.apply,
                contract_registry(),
                progress=lambda n: progress.advance(task, n),
            )
        console.print(f"{stats.summary()} -> {collection}", soft_wrap=True)
    finally:
        await client.close()


@dead_letters.command("list")
def list_dead_letters(limit: int = 100) -> None:
    """Dead letters with their reason and where they came from, each once."""
    letters = asyncio.run(_dead_letters())
    table = Table("source", "key", "code", "reason", "service", title=f"{len(letters)} dead letters")
    for record, headers in letters[-limit:]:
        where = (headers.get(h) for h in (Header.SOURCE_TOPIC, Header.SOURCE_PARTITION, Header.SOURCE_OFFSET))
        source = "{}[{}]@{}".format(*where)
        key = record.key.decode(errors="replace") if record.key else ""
        code, reason, service = (headers.get(h, "") for h in (Header.CODE, Header.REASON, Header.SERVICE))
        table.add_row(source, key, code, reason, service)
    console.print(table)


@dead_letters.command("redrive")
def redrive(
    code: Annotated[str | None, typer.Option(help="Only letters with this error code")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do it; without this only show what would be sent")] = False,
) -> None:
    """Send dead letters back to their source topic, unchanged, e.g. after a schema fix was deployed.

    Consumers dedupe by event id, so re-driving a letter twice applies it at most once."""
    asyncio.run(_redrive(code, yes))


async def _redrive(code: str | None, yes: bool) -> None:
    s = _settings()
    chosen = [(r, h) for r, h in await _dead_letters() if code is None or h.get(Header.CODE) == code]
    for record, headers in chosen:
        console.print(f"{headers.get(Header.SOURCE_TOPIC)} <- {headers.get(Header.CODE)}: {_describe(record.value)}")
    if not yes:
        console.print(f"{len(chosen)} letters would be re-driven; add --yes to send them")
        return
    async with standalone_publisher(s.kafka.bootstrap_servers, s.topics, source="lifecycle-cli") as publisher:
        for record, headers in chosen:
            original = [(k, v) for k, v in record.headers if not k.startswith(Header.PREFIX)]
            await publisher.send_raw(headers[Header.SOURCE_TOPIC], record.value, record.key, original)
    console.print(f"re-drove {len(chosen)} letters")


async def _dead_letters() -> list[tuple[Any, dict[str, str]]]:
    """Each letter once: a crash between publishing a letter and recording it may have sent it twice,
    with the same `dlq-id`."""
    s = _settings()
    letters: dict[str, tuple[Any, dict[str, str]]] = {}
    async for record in read_all(s.kafka.bootstrap_servers, [s.topics.dead_letters]):
        headers = {k: v.decode(errors="replace") for k, v in record.headers if k.startswith(Header.PREFIX)}
        letters.setdefault(headers.get(Header.ID) or f"{record.partition}@{record.offset}", (record, headers))
    return list(letters.values())


def _describe(value: bytes | None) -> str:
    try:
        envelope = from_record(value, [])
        return f"{envelope.type} {envelope.id}"
    except InvalidMessage:
        return repr((value or b"")[:40])


def _badge(status: str) -> str:
    colour = {"passing": "green", "warning": "yellow", "failing": "red"}.get(status, "grey50")
    return f"[{colour}]{status}[/{colour}]"


def main() -> None:
    app()


if __name__ == "__main__":
    main()
