"""The package catalog's fold, what the handler loads before deciding, and the deployment's own fold."""

from __future__ import annotations

from datetime import timedelta

from services.replacement.domain.decider import packages_needed, replacements
from services.replacement.domain.packages import PackageSpec, evolve_package
from shared.contract import events as ev
from shared.contract.events.values import DeploymentStatus, Importance, PrincipalType, Role
from shared.domain.recorded import Recorded
from shared.domain.testing import T0, given
from tests.unit.replacement.builders import (
    CHAMPION,
    D,
    add,
    challenger_added,
    created,
    registered,
    remove,
    replace,
    replaced,
    rollback,
    spec,
)


def registration(event: ev.ModelPackageRegistered, seconds: int, event_id: str) -> Recorded[ev.ModelPackageRegistered]:
    return Recorded(message=event, id=event_id, time=T0 + timedelta(seconds=seconds), subject=event.model_package_id)


def test_the_latest_registration_of_a_package_stands_whatever_the_arrival_order() -> None:
    building = registration(registered("pkg-2", ready=False), 1, "r-1")
    ready = registration(registered("pkg-2", ready=True), 2, "r-2")
    in_order: PackageSpec | None = None
    for event in (building, ready):
        in_order = evolve_package(in_order, event)
    late: PackageSpec | None = None
    for event in (ready, building):
        late = evolve_package(late, event)
    assert in_order == late
    assert in_order is not None and in_order.ready and in_order.event_id == "r-2"
    assert in_order.ref == spec("pkg-2").ref


def test_the_handler_loads_the_champion_history_challengers_and_every_package_named() -> None:
    history = given(replacements, created(), replaced(spec("pkg-2")), challenger_added("ch-1", spec("pkg-5")))
    state = history.state(D)
    commands = [replace("pkg-3"), add("pkg-4"), rollback(), remove(challenger_id="ch-1")]
    assert packages_needed(state, commands) == {"pkg-1", "pkg-2", "pkg-3", "pkg-4", "pkg-5"}


def test_the_deployment_fold_tracks_owners_importance_and_status() -> None:
    history = given(
        replacements,
        created(),
        ev.DeploymentShared(deployment_id=D, principal="ml", principal_type=PrincipalType.GROUP, role=Role.OWNER),
        ev.DeploymentShared(deployment_id=D, principal="bob", role=Role.USER),
        ev.DeploymentAccessRevoked(deployment_id=D, principal="alice"),
        ev.DeploymentImportanceChanged(deployment_id=D, importance=Importance.CRITICAL),
        ev.DeploymentDeactivated(deployment_id=D),
    )
    state = history.state(D)
    assert [(g.principal, g.principal_type, g.role) for g in state.grants] == [
        ("ml", PrincipalType.GROUP, Role.OWNER),
        ("bob", PrincipalType.USER, Role.USER),
    ]
    assert (state.importance, state.status, state.champion) == (
        Importance.CRITICAL,
        DeploymentStatus.INACTIVE,
        CHAMPION.ref,
    )


def test_deleted_gives_way_only_to_erased_and_erased_keeps_nothing_of_its_users() -> None:
    deleted = given(
        replacements, created(), ev.DeploymentDeleted(deployment_id=D), ev.DeploymentActivated(deployment_id=D)
    )
    assert deleted.state(D).status is DeploymentStatus.DELETED
    erased = given(
        replacements,
        created(),
        replaced(spec("pkg-2")),
        ev.DeploymentDeleted(deployment_id=D),
        ev.DeploymentErased(deployment_id=D),
        replaced(spec("pkg-3")),
    )
    state = erased.state(D)
    assert (state.status, state.grants, state.history, state.champion) == (DeploymentStatus.ERASED, (), (), None)


def test_model_events_about_a_deployment_never_seen_are_ignored() -> None:
    state = given(replacements, replaced(spec("pkg-2")), challenger_added("ch-1", spec("pkg-3"))).state(D)
    assert state == replacements.initial(D)
