"""The summary tiles: what one deployment adds to them, and how counts read as tiles. Pure.

Only deployments in the list count (services.inventory.domain.access: created, neither deleted nor
erased). Each adds 1 to `deployments`, 1 to its status and 1 to the status of each health dimension,
and its predictions total to `predictions`. Its audience, the principals that see it, are those
holding a seeing role on it (OWNER, USER; consumers see nothing, admins see everything).

The counts are kept by the storage layer (shared.storage.counters) as flat keys: `deployments`,
`predictions`, `status:<status>` and `<dimension>:<health status>`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping

from services.inventory.domain.access import LISTED_STATUSES, SEEING_ROLES
from services.inventory.domain.state import HEALTH_DIMENSIONS, DeploymentView
from shared.contract.events.values import DeploymentStatus, HealthStatus

DEPLOYMENTS = "deployments"
PREDICTIONS = "predictions"


def status_key(status: DeploymentStatus | str) -> str:
    return f"status:{DeploymentStatus(status).value}"


def health_key(dimension: str, status: HealthStatus | str) -> str:
    return f"{dimension}:{HealthStatus(status).value}"


@dataclasses.dataclass(frozen=True)
class Contribution:
    """What one deployment adds to the tiles, and who sees it."""

    audience: tuple[str, ...]
    counts: Mapping[str, int]


def audience(view: DeploymentView) -> tuple[str, ...]:
    return tuple(sorted({grant.principal for grant in view.access if grant.role in SEEING_ROLES}))


def contribution(view: DeploymentView) -> Contribution | None:
    """None for a deployment that is not listed: it adds nothing, for anyone."""
    if not view.created or view.status not in LISTED_STATUSES or view.status is None:
        return None
    counts = {DEPLOYMENTS: 1, status_key(view.status): 1, PREDICTIONS: view.predictions.total}
    for dimension in HEALTH_DIMENSIONS:
        counts[health_key(dimension, getattr(view.health, dimension).status)] = 1
    return Contribution(audience=audience(view), counts={key: value for key, value in counts.items() if value})


@dataclasses.dataclass(frozen=True)
class Tiles:
    """Summed counts, read as the summary's tiles."""

    counts: Mapping[str, int]

    @classmethod
    def of(cls, views: Iterable[DeploymentView]) -> Tiles:
        """The tiles of these deployments, counted one by one (what the maintained counters equal)."""
        summed: Counter[str] = Counter()
        for view in views:
            share = contribution(view)
            if share is not None:
                summed.update(share.counts)
        return cls(dict(summed))

    @property
    def deployments(self) -> int:
        return self.counts.get(DEPLOYMENTS, 0)

    @property
    def predictions(self) -> int:
        return self.counts.get(PREDICTIONS, 0)

    def with_status(self, status: DeploymentStatus) -> int:
        return self.counts.get(status_key(status), 0)

    def by_status(self) -> dict[str, int]:
        """Listed statuses with at least one deployment."""
        counted = {status.value: self.with_status(status) for status in LISTED_STATUSES}
        return {status: count for status, count in counted.items() if count}

    def health(self, dimension: str) -> dict[str, int]:
        return {status.value: self.counts.get(health_key(dimension, status), 0) for status in HealthStatus}
