"""The package catalog: what the registry said about each model package, keyed by package id.

A second projection beside the per-deployment state, fed by `ModelPackageRegistered` (registry stream,
keyed by package). A package registered again (e.g. once it is ready) is replaced by its latest
registration by (event time, event id), so the fold does not depend on arrival order.

`decide` never reads the catalog itself: the handler loads the packages a command may need
(`services.replacement.domain.decider.packages_needed`) and hands them in as a `Packages` value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from shared.contract.events.model import ModelPackageRegistered
from shared.contract.events.values import Feature, ModelPackageRef, TargetType
from shared.domain.fold import stamp_of
from shared.domain.recorded import Recorded


class PackageSpec(BaseModel):
    """One registered model package, as the checks compare it (one document in the catalog)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    name: str
    registered_model_id: str | None = None
    target_name: str
    target_type: TargetType
    target_classes: tuple[str, ...] = ()
    features: tuple[Feature, ...] = ()
    build_environment: str = "Python"
    series_type: str | None = None
    supports_prediction_intervals: bool = False
    ready: bool = True
    registered_at: datetime
    event_id: str

    @classmethod
    def of(cls, event: Recorded[ModelPackageRegistered]) -> PackageSpec:
        e = event.message
        at, event_id = stamp_of(event)
        return cls(
            id=e.model_package_id,
            name=e.name,
            registered_model_id=e.registered_model_id,
            target_name=e.target_name,
            target_type=e.target_type,
            target_classes=e.target_classes,
            features=e.features,
            build_environment=e.build_environment,
            series_type=e.series_type,
            supports_prediction_intervals=e.supports_prediction_intervals,
            ready=e.ready,
            registered_at=at,
            event_id=event_id,
        )

    @property
    def ref(self) -> ModelPackageRef:
        """What a deployment event says about the package it serves."""
        return ModelPackageRef(
            id=self.id,
            name=self.name,
            registered_model_id=self.registered_model_id,
            target_name=self.target_name,
            target_type=self.target_type,
            target_classes=self.target_classes,
            build_environment=self.build_environment,
        )


def evolve_package(current: PackageSpec | None, event: Recorded[ModelPackageRegistered]) -> PackageSpec:
    """The catalog entry after a registration: the latest registration of the package wins."""
    registered = PackageSpec.of(event)
    if current is not None and (current.registered_at, current.event_id) >= (
        registered.registered_at,
        registered.event_id,
    ):
        return current
    return registered


@dataclasses.dataclass(frozen=True)
class Packages:
    """The catalog entries a command may need, looked up by package id (a value handed to `decide`)."""

    by_id: Mapping[str, PackageSpec] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, specs: Iterable[PackageSpec]) -> Packages:
        return cls({spec.id: spec for spec in specs})

    def get(self, model_package_id: str) -> PackageSpec | None:
        return self.by_id.get(model_package_id)


NO_PACKAGES = Packages()
