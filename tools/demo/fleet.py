"""The demo's seeded world: five deployments, the model packages they serve, a week of predictions
and the health a monitoring system reports. Everything comes from fixed values and one seeded random
generator, so two runs show the same numbers."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta
from typing import Any

from services.trainer import demo_data
from shared.contract import events as ev
from shared.contract.events.values import (
    Feature,
    Importance,
    ModelPackageRef,
    PredictionEnvironment,
    Tag,
    TargetType,
)
from shared.contract.messages import Message

SEED = 11
CHURN_FEATURES = tuple(
    Feature(name=column, type="Categorical" if column == "plan" else "Numeric")
    for column in demo_data.COLUMNS
    if column != demo_data.TARGET
)


@dataclasses.dataclass(frozen=True)
class Deployment:
    base_id: str
    label: str
    importance: Importance
    platform: str
    package: ModelPackageRef
    team: str
    registered: bool
    """True: an operator registers it through the actions service; False: a serving platform announces it."""
    health: dict[str, str]
    """service, drift, accuracy -> the status the monitoring system reports first."""


def _package(
    package_id: str, name: str, target: str, kind: TargetType, classes: tuple[str, ...] = ()
) -> ModelPackageRef:
    return ModelPackageRef(
        id=package_id, name=name, registered_model_id=f"rm-{package_id.rsplit('-', 1)[0]}",
        target_name=target, target_type=kind, target_classes=classes,
    )  # fmt: skip


CHURN_MODEL = _package("churn-model-v1", "Churn model v1", demo_data.TARGET, TargetType.BINARY, ("no", "yes"))
FLEET = (
    Deployment("churn-scorer", "Churn scorer", Importance.MODERATE, "aws", CHURN_MODEL, "growth", True,
               {"service": "passing", "drift": "passing", "accuracy": "passing"}),
    Deployment("fraud-detector", "Fraud detector", Importance.CRITICAL, "gcp",
               _package("fraud-model-v3", "Fraud model v3", "is_fraud", TargetType.BINARY, ("no", "yes")), "risk", True,
               {"service": "passing", "drift": "passing", "accuracy": "warning"}),
    Deployment("demand-forecast", "Demand forecast", Importance.HIGH, "azure",
               _package("demand-model-v7", "Demand model v7", "units", TargetType.REGRESSION), "supply", True,
               {"service": "warning", "drift": "passing", "accuracy": "passing"}),
    Deployment("ticket-router", "Support ticket router", Importance.LOW, "onPremise",
               _package("ticket-model-v2", "Ticket model v2", "queue", TargetType.MULTICLASS, ("billing", "tech")),
               "support", False, {"service": "passing", "drift": "warning", "accuracy": "passing"}),
    Deployment("price-optimizer", "Price optimizer", Importance.MODERATE, "aws",
               _package("price-model-v1", "Price model v1", "price", TargetType.REGRESSION), "pricing", False,
               {"service": "failing", "drift": "passing", "accuracy": "passing"}),
)  # fmt: skip
RETRAINED = FLEET[0]
"""The deployment whose drift declines and is retrained."""
GUARDED = FLEET[1]
"""The CRITICAL deployment whose deactivation needs another OWNER's approval."""


def churn_package() -> ev.ModelPackageRegistered:
    """The registry's record of the churn champion: its features, which the replacement checks compare."""
    return ev.ModelPackageRegistered(
        model_package_id=CHURN_MODEL.id, name=CHURN_MODEL.name, registered_model_id=CHURN_MODEL.registered_model_id,
        target_name=CHURN_MODEL.target_name, target_type=CHURN_MODEL.target_type,
        target_classes=CHURN_MODEL.target_classes, features=CHURN_FEATURES,
    )  # fmt: skip


def registration(deployment: Deployment, deployment_id: str) -> dict[str, Any]:
    """The actions service's `POST /deployments` body; bob is a second OWNER."""
    return {
        "id": deployment_id,
        "label": deployment.label,
        "description": f"{deployment.label}, registered by an operator",
        "importance": deployment.importance.value,
        "model_package": deployment.package.model_dump(mode="json", exclude_none=True),
        "prediction_environment": _environment(deployment).model_dump(mode="json"),
        "owners": ["bob"],
        "tags": [{"name": "team", "value": deployment.team}],
    }


def announcement(deployment: Deployment, deployment_id: str) -> ev.DeploymentCreated:
    """What a serving platform publishes when it creates a deployment itself."""
    return ev.DeploymentCreated(
        deployment_id=deployment_id,
        label=deployment.label,
        description=f"{deployment.label}, from a platform",
        importance=deployment.importance,
        model_package=deployment.package,
        prediction_environment=_environment(deployment),
        created_by="alice",
        owners=("bob",),
        tags=(Tag(name="team", value=deployment.team),),
    )


def monitoring(ids: dict[str, str], now: datetime) -> list[tuple[str, Message, datetime]]:
    """A week of daily prediction counts and the first health reports, per deployment: (name, event, time)."""
    rng = random.Random(SEED)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    items: list[tuple[str, Message, datetime]] = []
    for deployment in FLEET:
        deployment_id = ids[deployment.base_id]
        volume = rng.randint(200, 2000)
        for back in range(6, -1, -1):
            day = today - timedelta(days=back) + timedelta(hours=9)
            count = int(volume * rng.uniform(0.7, 1.3))
            event = ev.PredictionsRecorded(deployment_id=deployment_id, count=count, predicted_at=min(day, now))
            items.append((f"predictions/{deployment.base_id}/{back}", event, min(day, now)))
        for dimension, status in deployment.health.items():
            items.append((f"health/{deployment.base_id}/{dimension}", report(deployment_id, dimension, status), now))
    return items


def report(deployment_id: str, dimension: str, status: str, message: str = "") -> ev.HealthReport:
    kinds: dict[str, type[ev.HealthReport]] = {
        "service": ev.ServiceHealthChanged,
        "drift": ev.DriftDetected,
        "accuracy": ev.AccuracyChanged,
    }
    return kinds[dimension].model_validate({"deployment_id": deployment_id, "status": status, "message": message})


def drift_decline(deployment_id: str) -> ev.DriftDetected:
    return ev.DriftDetected(
        deployment_id=deployment_id,
        status="warning",
        message="PSI 0.31 on monthly_charges, 0.22 on plan",
        drifting_features=("monthly_charges", "plan"),
    )


def _environment(deployment: Deployment) -> PredictionEnvironment:
    return PredictionEnvironment(
        id=f"env-{deployment.platform.lower()}", name=deployment.platform, platform=deployment.platform
    )
