"""`python -m tools.demo`: plays the part of upstream systems against a running stack, then shows
the inventory, its summary, the dead-letter topic and one deployment's audit trail.

Event ids are derived from fixed names, so running the demo twice changes nothing the second time.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx

from shared.contract import events as ev
from shared.contract.envelope import derived_id, wrap
from shared.contract.events.values import (
    Importance,
    ModelPackageRef,
    PredictionEnvironment,
    ReplacementReason,
    Role,
    Tag,
    TargetType,
)
from shared.contract.messages import Message
from shared.messaging.publisher import standalone_publisher
from tools.cli import CliSettings, audit, console, inventory, list_dead_letters, summary

FLEET = [
    ("churn-scorer", "Churn scorer", Importance.CRITICAL, "aws", TargetType.BINARY, "passing", "warning"),
    ("fraud-detector", "Fraud detector", Importance.HIGH, "gcp", TargetType.BINARY, "failing", "failing"),
    ("demand-forecast", "Demand forecast", Importance.MODERATE, "azure", TargetType.REGRESSION, "passing", "passing"),
    (
        "ticket-router",
        "Support ticket router",
        Importance.LOW,
        "onPremise",
        TargetType.MULTICLASS,
        "warning",
        "passing",
    ),
    ("price-optimizer", "Price optimizer", Importance.HIGH, "aws", TargetType.REGRESSION, "passing", "unknown"),
]


def _history(now: datetime) -> list[tuple[Message, datetime]]:
    start = now - timedelta(days=6)
    items: list[tuple[Message, datetime]] = []
    for n, (dep, label, importance, platform, target, service, drift) in enumerate(FLEET):
        package = ModelPackageRef(id=f"{dep}-v1", name=f"{label} v1", target_name="target", target_type=target)
        items.append(
            (
                ev.DeploymentCreated(
                    deployment_id=dep,
                    label=label,
                    description=f"{label} for the demo",
                    importance=importance,
                    model_package=package,
                    created_by="alice",
                    tags=(Tag(name="team", value="ds"),),
                    prediction_environment=PredictionEnvironment(
                        id=f"env-{platform}", name=platform, platform=platform
                    ),
                ),
                start,
            )
        )
        for day in range(7):
            count = (n + 1) * 100 + day * 10
            items.append(
                (
                    ev.PredictionsRecorded(deployment_id=dep, count=count, predicted_at=start + timedelta(days=day)),
                    start + timedelta(days=day),
                )
            )
        if service != "unknown":
            items.append((ev.ServiceHealthChanged(deployment_id=dep, status=service, message="from the demo"), now))
        if drift != "unknown":
            items.append(
                (
                    ev.DriftDetected(
                        deployment_id=dep, status=drift, message="PSI over threshold" if drift != "passing" else ""
                    ),
                    now,
                )
            )
    items.append((ev.DeploymentShared(deployment_id="churn-scorer", principal="bob", role=Role.USER), start))
    new_model = ModelPackageRef(
        id="fraud-detector-v2", name="Fraud detector v2", target_name="target", target_type=TargetType.BINARY
    )
    items.append(
        (
            ev.ModelReplaced(
                deployment_id="fraud-detector",
                previous_model_package_id="fraud-detector-v1",
                model_package=new_model,
                reason=ReplacementReason.DATA_DRIFT,
            ),
            now - timedelta(hours=2),
        )
    )
    items.append((ev.DeploymentDeactivated(deployment_id="ticket-router"), now - timedelta(hours=1)))
    return items


async def publish(settings: CliSettings) -> int:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    async with standalone_publisher(settings.kafka.bootstrap_servers, settings.topics, "demo/upstream") as publisher:
        items = _history(now)
        envelopes = [
            wrap(
                message,
                source="demo/upstream",
                time=at,
                actor="alice",
                event_id=derived_id("demo", f"{i}-{message.type_name}"),
            )
            for i, (message, at) in enumerate(items)
        ]
        await publisher.publish_envelopes(envelopes, [m for m, _ in items])
        # An upstream bug: not JSON at all. It ends in the dead-letter topic, and the consumer goes on.
        await publisher.send_raw(settings.topics.monitoring_events, b"{oops", b"churn-scorer", [])
        return len(items)


def wait_until_visible(settings: CliSettings, expected: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    headers = {"Authorization": f"Bearer {settings.token}"}
    while time.monotonic() < deadline:
        try:
            page = httpx.get(f"{settings.inventory_url}/deployments", headers=headers, params={"limit": 1}, timeout=5)
        except httpx.TransportError:
            page = None
        if page is not None and page.status_code == 200 and page.json()["count"] >= expected:
            return
        time.sleep(0.5)
    raise SystemExit("the inventory did not show the demo deployments in time; see .local/services/inventory.log")


def main() -> None:
    settings = CliSettings()
    sent = asyncio.run(publish(settings))
    console.print(f"[bold]demo:[/bold] published {sent} events and one malformed record")
    wait_until_visible(settings, expected=len(FLEET))
    time.sleep(1.0)  # let the last monitoring batch land
    inventory(search=None, status=None, sort="service_health", limit=50)
    summary()
    list_dead_letters(limit=5)
    audit("fraud-detector", at=None)
    console.print(f"API docs: {settings.inventory_url}/docs   metrics: {settings.inventory_url}/metrics")


if __name__ == "__main__":
    main()
