"""What one deployment adds to the summary tiles, and how summed counts read as tiles."""

from __future__ import annotations

import pytest

from services.inventory.domain.state import Access, DeploymentView, Health, HealthByDimension, Predictions
from services.inventory.domain.summary import Tiles, contribution
from shared.contract.events.values import DeploymentStatus, HealthStatus, Role


def view(
    status: DeploymentStatus | None = DeploymentStatus.ACTIVE,
    *,
    created: bool = True,
    access: tuple[tuple[str, Role], ...] = (("alice", Role.OWNER),),
    predictions: int = 0,
    drift: HealthStatus = HealthStatus.UNKNOWN,
) -> DeploymentView:
    return DeploymentView(
        deployment_id="d1",
        created=created,
        status=status,
        access=tuple(Access(principal=p, role=r) for p, r in access),
        predictions=Predictions(total=predictions),
        health=HealthByDimension(drift=Health(status=drift)),
    )


def test_a_listed_deployment_adds_one_to_its_status_and_each_health_dimension_and_its_predictions() -> None:
    share = contribution(view(DeploymentStatus.INACTIVE, predictions=12, drift=HealthStatus.FAILING))
    assert share is not None
    assert dict(share.counts) == {
        "deployments": 1,
        "status:inactive": 1,
        "predictions": 12,
        "service:unknown": 1,
        "drift:failing": 1,
        "accuracy:unknown": 1,
        "fairness:unknown": 1,
    }


@pytest.mark.parametrize(
    ("status", "created"),
    [(DeploymentStatus.DELETED, True), (DeploymentStatus.ERASED, True), (DeploymentStatus.ACTIVE, False), (None, True)],
)
def test_what_is_not_listed_adds_nothing(status: DeploymentStatus | None, created: bool) -> None:
    assert contribution(view(status, created=created, predictions=9)) is None


def test_the_audience_is_who_holds_a_seeing_role_sorted_once() -> None:
    grants = (("bob", Role.USER), ("ml-team", Role.USER), ("alice", Role.OWNER), ("carol", Role.CONSUMER))
    share = contribution(view(access=grants))
    assert share is not None
    assert share.audience == ("alice", "bob", "ml-team"), "consumers do not see the deployment"


def test_summed_counts_read_as_tiles() -> None:
    tiles = Tiles.of([view(predictions=5), view(DeploymentStatus.ERRORED, drift=HealthStatus.WARNING), view(None)])
    assert (tiles.deployments, tiles.predictions) == (2, 5)
    assert tiles.with_status(DeploymentStatus.ACTIVE) == 1
    assert tiles.by_status() == {"active": 1, "errored": 1}, "statuses nobody is in are left out"
    assert tiles.health("drift") == {"passing": 0, "warning": 1, "failing": 0, "unknown": 1, "unavailable": 0}
    assert Tiles({}).health("service") == dict.fromkeys(["passing", "warning", "failing", "unknown", "unavailable"], 0)
