"""How the actions service's view of a deployment follows the log."""

from __future__ import annotations

from services.actions.domain.decider import deployments
from shared.contract import events as ev
from shared.contract.events.deployment import DeploymentEvent
from shared.contract.events.values import DeploymentStatus
from shared.domain.testing import given
from tests.unit.actions.test_decide import created_upstream


def status_after(*events: DeploymentEvent) -> DeploymentStatus | None:
    return given(deployments, *events).state("d-1").status


def test_lifecycle_events_of_an_unknown_id_do_not_make_it_exist() -> None:
    assert status_after(ev.DeploymentActivated(deployment_id="d-1"), ev.DeploymentDeleted(deployment_id="d-1")) is None


def test_status_follows_the_lifecycle_events() -> None:
    assert status_after(created_upstream()) is DeploymentStatus.ACTIVE
    assert status_after(created_upstream(), ev.DeploymentDeactivated(deployment_id="d-1")) is DeploymentStatus.INACTIVE
    assert status_after(created_upstream(), ev.DeploymentErrored(deployment_id="d-1")) is DeploymentStatus.ERRORED


def test_deleted_gives_way_only_to_erased_and_erased_to_nothing() -> None:
    deleted = [created_upstream(), ev.DeploymentDeleted(deployment_id="d-1")]
    assert status_after(*deleted, ev.DeploymentActivated(deployment_id="d-1")) is DeploymentStatus.DELETED
    erased = [*deleted, ev.DeploymentErased(deployment_id="d-1")]
    assert status_after(*erased) is DeploymentStatus.ERASED
    assert status_after(*erased, ev.DeploymentActivated(deployment_id="d-1")) is DeploymentStatus.ERASED


def test_the_first_creation_stands() -> None:
    state = given(deployments, created_upstream(label="first"), created_upstream(label="second")).state("d-1")
    assert state.label == "first"


def test_events_the_service_does_not_track_change_nothing() -> None:
    before = given(deployments, created_upstream()).state("d-1")
    after = given(deployments, created_upstream(), ev.DeploymentStatisticsCleared(deployment_id="d-1")).state("d-1")
    assert after == before
