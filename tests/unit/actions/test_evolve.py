"""How the actions service's view of a deployment follows the log, whatever order a producer sends."""

from __future__ import annotations

from datetime import timedelta

from services.actions.domain.decider import deployments
from services.actions.domain.evolve import CLOSED_KEPT, FOLDED
from services.actions.domain.state import ChangeRequestStatus, DeploymentState, Grant
from shared.contract import events as ev
from shared.contract.catalog import ALL_EVENTS
from shared.contract.events.values import DeploymentStatus, Importance, PrincipalType, Role, Tag
from shared.contract.messages import Event
from shared.domain.testing import T0, given
from tests.unit.actions.builders import DEPLOYMENT, created, shared

D = DEPLOYMENT


def state_after(*events: Event) -> DeploymentState:
    return given(deployments, *events).state(D)


def opened(change_request_id: str, action: str = "DeactivateDeployment") -> ev.ChangeRequestOpened:
    return ev.ChangeRequestOpened(
        deployment_id=D,
        change_request_id=change_request_id,
        action=action,
        command={"command_id": change_request_id},
        requested_by="olivia",
        expires_at=T0 + timedelta(days=7),
    )


def test_events_of_an_unknown_id_do_not_make_it_exist_nor_linger() -> None:
    before = [
        ev.DeploymentActivated(deployment_id=D),
        shared("x", Role.OWNER),
        ev.DeploymentImportanceChanged(deployment_id=D, importance=Importance.LOW),
        opened("cr-1"),
        ev.DeploymentDeleted(deployment_id=D),
    ]
    assert state_after(*before) == DeploymentState.initial(D)
    creation = created(created_at=T0)
    assert state_after(*before, creation) == state_after(creation)


def test_creation_takes_everything_the_event_says() -> None:
    tags = (Tag(name="team", value="growth"),)
    state = state_after(created(owners=("owen", "olivia"), tags=tags, importance=Importance.CRITICAL))
    assert (state.status, state.label, state.description, state.tags, state.importance) == (
        DeploymentStatus.ACTIVE,
        "Churn",
        "scores customers",
        tags,
        Importance.CRITICAL,
    )
    assert state.created_at == T0, "defaults to the event time"
    assert state.owners == ("olivia", "owen")


def test_the_first_creation_stands() -> None:
    assert state_after(created(label="first"), created(label="second", created_by="eve")).label == "first"


def test_status_follows_the_lifecycle_events() -> None:
    assert state_after(created()).status is DeploymentStatus.ACTIVE
    assert state_after(created(), ev.DeploymentDeactivated(deployment_id=D)).status is DeploymentStatus.INACTIVE
    assert state_after(created(), ev.DeploymentErrored(deployment_id=D)).status is DeploymentStatus.ERRORED
    back = [created(), ev.DeploymentDeactivated(deployment_id=D), ev.DeploymentActivated(deployment_id=D)]
    assert state_after(*back).status is DeploymentStatus.ACTIVE


def test_deleted_gives_way_only_to_erased_and_erased_to_nothing() -> None:
    deleted = [created(), ev.DeploymentDeleted(deployment_id=D)]
    assert state_after(*deleted, ev.DeploymentActivated(deployment_id=D)).status is DeploymentStatus.DELETED
    erased = [*deleted, ev.DeploymentErased(deployment_id=D)]
    assert state_after(*erased).status is DeploymentStatus.ERASED
    assert state_after(*erased, ev.DeploymentActivated(deployment_id=D)).status is DeploymentStatus.ERASED


def test_erasure_leaves_a_tombstone_that_nothing_changes() -> None:
    full = [created(owners=("owen",)), shared("uma", Role.USER), opened("cr-1"), ev.DeploymentDeleted(deployment_id=D)]
    tombstone = DeploymentState(deployment_id=D, status=DeploymentStatus.ERASED)
    assert state_after(*full, ev.DeploymentErased(deployment_id=D)) == tombstone
    later = [
        created(label="again"),
        shared("x", Role.OWNER),
        ev.DeploymentSettingsChanged(deployment_id=D, label="New"),
        opened("cr-2"),
        ev.DeploymentDeleted(deployment_id=D),
    ]
    assert state_after(*full, ev.DeploymentErased(deployment_id=D), *later) == tombstone


def test_importance_and_settings_follow_their_events_and_settings_change_only_what_they_name() -> None:
    state = state_after(
        created(),
        ev.DeploymentImportanceChanged(deployment_id=D, importance=Importance.HIGH),
        ev.DeploymentSettingsChanged(deployment_id=D, description="new words"),
        ev.DeploymentSettingsChanged(deployment_id=D, tags=(Tag(name="a"),)),
    )
    assert (state.importance, state.label, state.description, state.tags) == (
        Importance.HIGH,
        "Churn",
        "new words",
        (Tag(name="a"),),
    )


def test_grants_are_replaced_by_a_later_share_and_dropped_by_a_revoke() -> None:
    state = state_after(
        created(),
        shared("uma", Role.CONSUMER),
        shared("uma", Role.USER, PrincipalType.GROUP),
        shared("bob", Role.OWNER),
        ev.DeploymentAccessRevoked(deployment_id=D, principal="bob"),
    )
    assert state.grants == (
        Grant(principal="olivia", role=Role.OWNER),
        Grant(principal="uma", principal_type=PrincipalType.GROUP, role=Role.USER),
    )


def test_a_request_is_opened_once_and_the_first_closing_stands() -> None:
    approved = ev.ChangeRequestApproved(deployment_id=D, change_request_id="cr-1", approved_by="owen")
    rejected = ev.ChangeRequestRejected(deployment_id=D, change_request_id="cr-1", rejected_by="gina", comment="no")
    state = state_after(created(), opened("cr-1"), opened("cr-1", action="DeleteDeployment"), approved, rejected)
    [request] = state.change_requests
    assert (request.action, request.status, request.closed_by, request.comment) == (
        "DeactivateDeployment",
        ChangeRequestStatus.APPROVED,
        "owen",
        "",
    )


def test_a_closing_for_an_unknown_request_is_ignored_even_if_it_opens_later() -> None:
    early = ev.ChangeRequestExpired(deployment_id=D, change_request_id="cr-1")
    state = state_after(created(), early, opened("cr-1"))
    assert [r.status for r in state.change_requests] == [ChangeRequestStatus.OPEN]


def test_only_the_newest_closed_requests_are_kept_and_open_ones_always() -> None:
    history: list[Event] = [created(), opened("open-early")]
    for index in range(CLOSED_KEPT + 3):
        history += [
            opened(f"cr-{index}"),
            ev.ChangeRequestCanceled(deployment_id=D, change_request_id=f"cr-{index}", canceled_by="olivia"),
        ]
    ids = [r.id for r in state_after(*history).change_requests]
    assert ids == ["open-early", *(f"cr-{index}" for index in range(3, CLOSED_KEPT + 3))]


def test_events_the_service_does_not_track_change_nothing() -> None:
    before = state_after(created())
    untracked = [
        ev.DeploymentStatisticsCleared(deployment_id=D),
        ev.CommandRejected(deployment_id=D, command_id="c", command_type="X", code="no", reason="no"),
    ]
    assert state_after(created(), *untracked) == before
    assert not set(FOLDED) & {ev.DeploymentStatisticsCleared, ev.CommandRejected}
    assert set(FOLDED) <= set(ALL_EVENTS)
