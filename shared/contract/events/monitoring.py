"""Health and usage reports published by upstream monitoring systems."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from shared.contract.events.values import HealthStatus, HealthWindow
from shared.contract.messages import Event
from shared.contract.topology import Stream

ReportedStatus = Literal[HealthStatus.PASSING, HealthStatus.WARNING, HealthStatus.FAILING, HealthStatus.UNKNOWN]


class HealthReport(Event):
    """A new status for one health dimension; the latest report by event time wins."""

    stream: ClassVar[Stream] = Stream.MONITORING
    dimension: ClassVar[str]

    status: ReportedStatus
    message: str = ""
    window: HealthWindow = HealthWindow()


class ServiceHealthChanged(HealthReport):
    type_name: ClassVar[str] = "ServiceHealthChanged"
    dimension: ClassVar[str] = "service"

    error_count_4xx: int = Field(default=0, ge=0)
    error_count_5xx: int = Field(default=0, ge=0)


class DriftDetected(HealthReport):
    type_name: ClassVar[str] = "DriftDetected"
    dimension: ClassVar[str] = "drift"

    drifting_features: tuple[str, ...] = ()
    target_drift: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class AccuracyChanged(HealthReport):
    type_name: ClassVar[str] = "AccuracyChanged"
    dimension: ClassVar[str] = "accuracy"

    status: ReportedStatus | Literal[HealthStatus.UNAVAILABLE]  # type: ignore[assignment]
    metric: str | None = None
    value: float | None = Field(default=None, allow_inf_nan=False)


class FairnessChanged(HealthReport):
    type_name: ClassVar[str] = "FairnessChanged"
    dimension: ClassVar[str] = "fairness"

    failing_protected_features: tuple[str, ...] = ()


HEALTH_REPORTS: tuple[type[HealthReport], ...] = (ServiceHealthChanged, DriftDetected, AccuracyChanged, FairnessChanged)
HEALTH_DIMENSIONS: tuple[str, ...] = tuple(report.dimension for report in HEALTH_REPORTS)
"""The health dimensions in display order; each is named once, on its report type."""


class PredictionsRecorded(Event):
    """`count` predictions were served by the deployment at `predicted_at` (a batch of requests)."""

    type_name: ClassVar[str] = "PredictionsRecorded"
    stream: ClassVar[Stream] = Stream.MONITORING

    count: int = Field(ge=0)
    predicted_at: AwareDatetime
    model_package_id: str | None = None
