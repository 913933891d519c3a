"""Change requests: held commands on deployments of guarded importance, and every review rule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from services.actions.domain.decider import decider_for, deployments
from services.actions.domain.policy import Policy
from services.actions.domain.state import ChangeRequestStatus
from shared.contract import events as ev
from shared.contract.commands import actions as cmd
from shared.contract.envelope import derived_id
from shared.contract.events.values import Importance, Role
from shared.contract.messages import Actor, Event
from shared.contract.topology import Stream
from shared.domain.decider import Rejection
from shared.domain.recorded import Recorded
from shared.domain.testing import given
from tests.unit.actions.builders import (
    ADAM,
    CONNIE,
    DEPLOYMENT,
    GINA,
    NOW,
    OLIVIA,
    OWEN,
    UMA,
    at,
    command,
    decided,
    kinds,
    team,
)

WEEK = timedelta(days=7)
History = list[Event | Recorded[Event]]


def request_id(command_id: str) -> str:
    return derived_id(command_id, "change-request")


def deactivation_requested(importance: Importance = Importance.HIGH, by: Actor = OLIVIA) -> History:
    """A deployment of `importance` whose deactivation `by` asked for at NOW (command id "req")."""
    return decided(deployments, team(importance), (command(cmd.DeactivateDeployment, by, "req"), NOW))


def approve(actor: Actor, change_request_id: str | None = None) -> cmd.ApproveChangeRequest:
    return command(cmd.ApproveChangeRequest, actor, change_request_id=change_request_id or request_id("req"))


def reject(actor: Actor) -> cmd.RejectChangeRequest:
    return command(cmd.RejectChangeRequest, actor, change_request_id=request_id("req"), comment="not now")


def cancel(actor: Actor) -> cmd.CancelChangeRequest:
    return command(cmd.CancelChangeRequest, actor, change_request_id=request_id("req"))


def expire() -> cmd.ExpireChangeRequest:
    return command(cmd.ExpireChangeRequest, Actor(user="actions"), change_request_id=request_id("req"))


# --- opening -----------------------------------------------------------------------------------------


def test_deactivating_a_high_importance_deployment_opens_a_change_request_instead() -> None:
    deactivate = command(cmd.DeactivateDeployment, OLIVIA, "req", reason="maintenance window")
    state = (
        given(deployments, *team(Importance.HIGH))
        .when(deactivate, now=NOW)
        .then(
            ev.ChangeRequestOpened(
                deployment_id=DEPLOYMENT,
                change_request_id=request_id("req"),
                action="DeactivateDeployment",
                command_stream=Stream.ACTIONS_COMMANDS,
                command=deactivate.model_dump(mode="json"),
                requested_by="olivia",
                expires_at=NOW + WEEK,
                reason="maintenance window",
            )
        )
    )
    assert state.status == "active", "the held command has not run"
    [request] = state.open_change_requests
    assert (request.id, request.requested_by, request.requested_at) == (request_id("req"), "olivia", NOW)


@pytest.mark.parametrize("importance", [Importance.HIGH, Importance.CRITICAL])
@pytest.mark.parametrize(
    "held",
    [
        cmd.DeactivateDeployment,
        cmd.DeleteDeployment,
    ],
)
def test_deactivate_and_delete_are_held_on_each_guarded_importance(
    importance: Importance, held: type[cmd.ActionsCommand]
) -> None:
    decision = given(deployments, *team(importance)).when(command(held, OLIVIA)).decision
    assert kinds(decision) == [ev.ChangeRequestOpened]


@pytest.mark.parametrize(
    ("importance", "to", "held"),
    [
        (Importance.CRITICAL, Importance.HIGH, True),
        (Importance.CRITICAL, Importance.LOW, True),
        (Importance.HIGH, Importance.MODERATE, True),
        (Importance.HIGH, Importance.CRITICAL, False),  # raising runs
        (Importance.MODERATE, Importance.LOW, False),  # not guarded
        (Importance.LOW, Importance.CRITICAL, False),
    ],
)
def test_only_lowering_a_guarded_importance_is_held(importance: Importance, to: Importance, held: bool) -> None:
    decision = given(deployments, *team(importance)).when(command(cmd.ChangeImportance, OLIVIA, importance=to)).decision
    expected = ev.ChangeRequestOpened if held else ev.DeploymentImportanceChanged
    assert kinds(decision) == [expected]


@pytest.mark.parametrize(
    ("runs", "ends_in"),
    [
        (command(cmd.ClearStatistics, OLIVIA), ev.DeploymentStatisticsCleared),
        (command(cmd.ChangeDeploymentSettings, OLIVIA, label="New"), ev.DeploymentSettingsChanged),
        (command(cmd.ShareDeployment, OLIVIA, principal="dave", role=Role.USER), ev.DeploymentShared),
        (command(cmd.RevokeAccess, OLIVIA, principal="uma"), ev.DeploymentAccessRevoked),
    ],
    ids=lambda c: getattr(c, "type_name", ""),
)
def test_other_actions_on_a_guarded_deployment_run_at_once(runs: cmd.ActionsCommand, ends_in: type[Event]) -> None:
    assert kinds(given(deployments, *team(Importance.CRITICAL)).when(runs).decision) == [ends_in]


def test_activating_a_guarded_deployment_runs_at_once() -> None:
    inactive = [*team(Importance.HIGH), ev.DeploymentDeactivated(deployment_id=DEPLOYMENT)]
    given(deployments, *inactive).when(command(cmd.ActivateDeployment, OLIVIA)).then(
        ev.DeploymentActivated(deployment_id=DEPLOYMENT)
    )


def test_moderate_importance_runs_deactivate_directly() -> None:
    given(deployments, *team(Importance.MODERATE)).when(command(cmd.DeactivateDeployment, OLIVIA)).then(
        ev.DeploymentDeactivated(deployment_id=DEPLOYMENT)
    )


def test_the_policy_says_which_importances_are_guarded_and_for_how_long() -> None:
    critical_only = decider_for(
        Policy(guarded_importances=frozenset({Importance.CRITICAL}), change_request_ttl=timedelta(hours=2))
    )
    given(critical_only, *team(Importance.HIGH)).when(command(cmd.DeactivateDeployment, OLIVIA)).then(
        ev.DeploymentDeactivated(deployment_id=DEPLOYMENT)
    )
    decision = (
        given(critical_only, *team(Importance.CRITICAL))
        .when(command(cmd.DeactivateDeployment, OLIVIA), now=NOW)
        .decision
    )
    assert isinstance(decision, list) and isinstance(decision[0], ev.ChangeRequestOpened)
    assert decision[0].expires_at == NOW + timedelta(hours=2)


def test_a_policy_needs_a_positive_ttl() -> None:
    with pytest.raises(ValueError, match="positive"):
        Policy(change_request_ttl=timedelta(0))


def test_a_held_command_is_checked_first_so_only_one_that_would_run_is_held() -> None:
    given(deployments, *team(Importance.HIGH)).when(command(cmd.DeactivateDeployment, UMA)).then_rejected("forbidden")
    inactive = [*team(Importance.HIGH), ev.DeploymentDeactivated(deployment_id=DEPLOYMENT)]
    given(deployments, *inactive).when(command(cmd.DeactivateDeployment, OLIVIA)).then_rejected("already-inactive")


def test_an_admins_command_is_held_too() -> None:
    decision = given(deployments, *team(Importance.HIGH)).when(command(cmd.DeleteDeployment, ADAM)).decision
    assert kinds(decision) == [ev.ChangeRequestOpened]


def test_one_open_request_per_action_until_its_deadline() -> None:
    history = deactivation_requested()
    given(deployments, *history).when(command(cmd.DeactivateDeployment, OWEN), now=at(1)).then_rejected(
        "change-request-pending", reason_contains="by olivia"
    )
    late = given(deployments, *history).when(command(cmd.DeactivateDeployment, OWEN), now=NOW + WEEK).decision
    assert kinds(late) == [ev.ChangeRequestOpened]
    other_action = given(deployments, *history).when(command(cmd.DeleteDeployment, OWEN), now=at(1)).decision
    assert kinds(other_action) == [ev.ChangeRequestOpened]


# --- approving and rejecting -------------------------------------------------------------------------


def test_another_owner_approves_and_the_held_command_runs() -> None:
    approval = approve(OWEN)
    state = (
        given(deployments, *deactivation_requested())
        .when(approval, now=at(2))
        .then(
            ev.ChangeRequestApproved(deployment_id=DEPLOYMENT, change_request_id=request_id("req"), approved_by="owen"),
            ev.DeploymentDeactivated(deployment_id=DEPLOYMENT),
        )
    )
    assert state.status == "inactive"
    [request] = state.change_requests
    assert (request.status, request.closed_by, request.closed_at) == (ChangeRequestStatus.APPROVED, "owen", at(2))
    assert not state.open_change_requests


@pytest.mark.parametrize("approver", [ADAM, GINA], ids=["admin", "owner-by-group"])
def test_an_admin_or_a_group_owner_may_approve(approver: Actor) -> None:
    decision = given(deployments, *deactivation_requested()).when(approve(approver)).decision
    assert kinds(decision) == [ev.ChangeRequestApproved, ev.DeploymentDeactivated]


@pytest.mark.parametrize("reviewer", [UMA, CONNIE, Actor(user="nina")], ids=["user", "consumer", "no-role"])
def test_only_owners_and_admins_review(reviewer: Actor) -> None:
    given(deployments, *deactivation_requested()).when(approve(reviewer)).then_rejected("forbidden")
    given(deployments, *deactivation_requested()).when(reject(reviewer)).then_rejected("forbidden")


def test_the_requester_cannot_approve_or_reject_their_own_request_even_as_admin() -> None:
    given(deployments, *deactivation_requested()).when(approve(OLIVIA)).then_rejected(
        "self-approval", reason_contains="another OWNER or an admin"
    )
    given(deployments, *deactivation_requested()).when(reject(OLIVIA)).then_rejected("self-approval")
    by_admin = deactivation_requested(by=ADAM)
    given(deployments, *by_admin).when(approve(ADAM)).then_rejected("self-approval")
    by_another = given(deployments, *by_admin).when(approve(OLIVIA)).decision
    assert kinds(by_another) == [ev.ChangeRequestApproved, ev.DeploymentDeactivated]


def test_a_rejected_request_never_runs_and_cannot_be_approved_after() -> None:
    state = (
        given(deployments, *deactivation_requested())
        .when(reject(OWEN), now=at(1))
        .then(
            ev.ChangeRequestRejected(
                deployment_id=DEPLOYMENT, change_request_id=request_id("req"), rejected_by="owen", comment="not now"
            )
        )
    )
    assert state.status == "active" and state.change_requests[0].status is ChangeRequestStatus.REJECTED
    rejected = decided(deployments, deactivation_requested(), (reject(OWEN), at(1)))
    given(deployments, *rejected).when(approve(GINA), now=at(2)).then_rejected(
        "change-request-closed", reason_contains="rejected by owen"
    )


def test_an_unknown_request_is_not_found() -> None:
    given(deployments, *deactivation_requested()).when(approve(OWEN, "cr-404")).then_rejected(
        "change-request-not-found", reason_contains="cr-404"
    )


# --- approval runs the held command against the state at that moment ---------------------------------


def test_approval_is_refused_when_the_held_command_cannot_run_any_more_and_the_request_stays_open() -> None:
    meanwhile = [*deactivation_requested(), ev.DeploymentDeactivated(deployment_id=DEPLOYMENT)]  # the platform
    given(deployments, *meanwhile).when(approve(OWEN)).then_rejected(
        "held-command-refused", reason_contains="already-inactive"
    )
    assert given(deployments, *meanwhile).state(DEPLOYMENT).open_change_requests
    given(deployments, *meanwhile).when(reject(OWEN)).then(
        ev.ChangeRequestRejected(
            deployment_id=DEPLOYMENT, change_request_id=request_id("req"), rejected_by="owen", comment="not now"
        )
    )


def test_the_held_command_runs_with_its_requesters_role_as_it_is_now() -> None:
    revoked = [*deactivation_requested(), ev.DeploymentAccessRevoked(deployment_id=DEPLOYMENT, principal="olivia")]
    given(deployments, *revoked).when(approve(OWEN)).then_rejected("held-command-refused", reason_contains="forbidden")


def test_the_held_importance_applies_to_the_importance_of_the_moment() -> None:
    lower = command(cmd.ChangeImportance, OLIVIA, "req", importance=Importance.LOW)
    raised = command(cmd.ChangeImportance, OWEN, importance=Importance.CRITICAL)
    history = decided(deployments, team(Importance.HIGH), (lower, NOW), (raised, at(1)))
    assert given(deployments, *history).state(DEPLOYMENT).importance is Importance.CRITICAL
    state = (
        given(deployments, *history)
        .when(approve(OWEN), now=at(2))
        .then(
            ev.ChangeRequestApproved(deployment_id=DEPLOYMENT, change_request_id=request_id("req"), approved_by="owen"),
            ev.DeploymentImportanceChanged(deployment_id=DEPLOYMENT, importance=Importance.LOW),
        )
    )
    assert state.importance is Importance.LOW


def test_once_an_approved_delete_ran_other_requests_can_only_expire() -> None:
    history = decided(
        deployments,
        deactivation_requested(),
        (command(cmd.DeleteDeployment, OWEN, "del"), at(1)),
        (approve(OLIVIA, request_id("del")), at(2)),
    )
    state = given(deployments, *history).state(DEPLOYMENT)
    assert state.status == "deleted" and [r.id for r in state.open_change_requests] == [request_id("req")]
    given(deployments, *history).when(approve(OWEN), now=at(3)).then_rejected("deployment-deleted")
    given(deployments, *history).when(cancel(OLIVIA), now=at(3)).then_rejected("deployment-deleted")
    given(deployments, *history).when(expire(), now=NOW + WEEK).then(
        ev.ChangeRequestExpired(deployment_id=DEPLOYMENT, change_request_id=request_id("req"))
    )


def test_another_services_request_is_approved_here_and_run_there() -> None:
    held = {"command_id": "r-1", "deployment_id": DEPLOYMENT, "actor": {"user": "olivia"}, "model_package_id": "p"}
    opened = ev.ChangeRequestOpened(
        deployment_id=DEPLOYMENT,
        change_request_id="cr-r",
        action="ReplaceModel",
        command_stream=Stream.REPLACEMENT_COMMANDS,
        command=held,
        requested_by="olivia",
        expires_at=NOW + WEEK,
    )
    given(deployments, *team(Importance.HIGH), opened).when(approve(OWEN, "cr-r")).then(
        ev.ChangeRequestApproved(deployment_id=DEPLOYMENT, change_request_id="cr-r", approved_by="owen")
    )
    given(deployments, *team(Importance.HIGH), opened).when(approve(OLIVIA, "cr-r")).then_rejected("self-approval")


# --- cancel and expiry -------------------------------------------------------------------------------


def test_the_requester_cancels_and_nobody_else_may() -> None:
    given(deployments, *deactivation_requested()).when(cancel(OLIVIA)).then(
        ev.ChangeRequestCanceled(deployment_id=DEPLOYMENT, change_request_id=request_id("req"), canceled_by="olivia")
    )
    for other in (OWEN, ADAM, GINA):
        given(deployments, *deactivation_requested()).when(cancel(other)).then_rejected(
            "not-requester", reason_contains="only olivia"
        )


def test_the_requester_may_cancel_after_losing_their_role() -> None:
    revoked = [*deactivation_requested(), ev.DeploymentAccessRevoked(deployment_id=DEPLOYMENT, principal="olivia")]
    decision = given(deployments, *revoked).when(cancel(OLIVIA)).decision
    assert kinds(decision) == [ev.ChangeRequestCanceled]


def test_expiry_is_refused_before_the_deadline_and_accepted_from_it() -> None:
    history = deactivation_requested()
    given(deployments, *history).when(expire(), now=NOW + WEEK - timedelta(milliseconds=1)).then_rejected(
        "change-request-not-expired"
    )
    state = (
        given(deployments, *history)
        .when(expire(), now=NOW + WEEK)
        .then(ev.ChangeRequestExpired(deployment_id=DEPLOYMENT, change_request_id=request_id("req")))
    )
    [request] = state.change_requests
    assert (request.status, request.closed_by) == (ChangeRequestStatus.EXPIRED, None)
    assert state.status == "active"


@pytest.mark.parametrize(
    "review", [lambda: approve(OWEN), lambda: reject(OWEN), lambda: cancel(OLIVIA)], ids=["approve", "reject", "cancel"]
)
def test_after_the_deadline_a_request_can_only_expire(review: Callable[[], cmd.ActionsCommand]) -> None:
    history = deactivation_requested()
    just_in_time = given(deployments, *history).when(review(), now=NOW + WEEK - timedelta(milliseconds=1)).decision
    assert not isinstance(just_in_time, Rejection), just_in_time
    given(deployments, *history).when(review(), now=NOW + WEEK).then_rejected("change-request-expired")


def test_a_closed_request_does_not_expire() -> None:
    canceled = decided(deployments, deactivation_requested(), (cancel(OLIVIA), at(1)))
    given(deployments, *canceled).when(expire(), now=NOW + WEEK).then_rejected(
        "change-request-closed", reason_contains="canceled by olivia"
    )


def test_erasure_leaves_no_request_behind_and_nothing_more_is_decided() -> None:
    history = deactivation_requested()
    gone = [*history, ev.DeploymentDeleted(deployment_id=DEPLOYMENT), ev.DeploymentErased(deployment_id=DEPLOYMENT)]
    assert given(deployments, *history).state(DEPLOYMENT).open_change_requests
    assert not given(deployments, *gone).state(DEPLOYMENT).change_requests
    given(deployments, *gone).when(expire(), now=NOW + WEEK).then_rejected("deployment-erased")
    given(deployments, *gone).when(approve(OWEN)).then_rejected("deployment-erased")
