"""On a guarded (HIGH, CRITICAL) deployment a change of champion waits for an approved change request.

The actions service reviews requests; this service opens them (holding the command) and, once one is
approved, runs the held command against the deployment as it is then (`approved_command`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.replacement.domain.decider import approved_command, packages_needed
from services.replacement.domain.policy import Policy
from services.replacement.domain.state import ChangeRequestStatus
from shared.contract import events as ev
from shared.contract.catalog import contract_registry
from shared.contract.commands.replacement import ReplaceModel
from shared.contract.envelope import derived_id
from shared.contract.events.values import Importance, TargetType, ValidationStatus
from shared.contract.messages import Event
from shared.domain.testing import given
from tests.unit.replacement.builders import D, accepted, created, decided, decider, replace, spec

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
NEW = spec("pkg-2")
REQUEST = derived_id("c-replace", "change-request")
GUARDED = created(importance=Importance.HIGH)


def opened_for(command: ReplaceModel, now: datetime = NOW) -> list[Event]:
    """What a guarded replacement decides: the validation for the reviewers, then the request."""
    return decided(given(decider(NEW), GUARDED).when(command, now=now))


def approved(request_id: str = REQUEST) -> ev.ChangeRequestApproved:
    return ev.ChangeRequestApproved(deployment_id=D, change_request_id=request_id, approved_by="bob")


def test_a_replacement_on_a_guarded_deployment_opens_a_change_request_holding_it() -> None:
    command = replace("pkg-2", note="drift since Monday")
    when = given(decider(NEW), GUARDED).when(command, now=NOW)
    validated, opened = decided(when)
    assert isinstance(validated, ev.ModelReplacementValidated)
    assert validated.status is ValidationStatus.PASSING
    assert opened == ev.ChangeRequestOpened.holding(
        command,
        change_request_id=REQUEST,
        expires_at=NOW + timedelta(days=7),
        reason="ReplaceModel (DATA_DRIFT) on a HIGH deployment: drift since Monday",
    )
    state = accepted(when)
    assert state.champion is not None and state.champion.id == "pkg-1"
    (held,) = state.held
    assert (held.change_request_id, held.status, held.ran) == (REQUEST, ChangeRequestStatus.OPEN, False)


def test_a_moderate_deployment_or_a_policy_guarding_nothing_replaces_at_once() -> None:
    (event,) = decided(given(decider(NEW), created()).when(replace("pkg-2")))
    assert isinstance(event, ev.ModelReplaced)
    unguarded = decider(NEW, policy=Policy(guarded_importances=frozenset()))
    (event,) = decided(given(unguarded, GUARDED).when(replace("pkg-2")))
    assert isinstance(event, ev.ModelReplaced)


def test_a_failing_replacement_is_rejected_without_a_request() -> None:
    regression = spec("pkg-9", target_type=TargetType.REGRESSION)
    (event,) = decided(given(decider(regression), GUARDED).when(replace("pkg-9")))
    assert isinstance(event, ev.ModelReplacementRejected)


def test_one_pending_change_of_champion_at_a_time_until_it_expires() -> None:
    history = [GUARDED, *opened_for(replace("pkg-2"))]
    other = replace("pkg-3", command_id="c-2")
    pending = given(decider(NEW, spec("pkg-3")), *history).when(other, now=NOW + timedelta(days=1))
    pending.then_rejected("change-request-pending", reason_contains=REQUEST)
    later = given(decider(NEW, spec("pkg-3")), *history).when(other, now=NOW + timedelta(days=8))
    assert isinstance(decided(later)[1], ev.ChangeRequestOpened)


def test_an_approved_request_runs_the_held_command_once_against_the_state_then() -> None:
    history = [GUARDED, *opened_for(replace("pkg-2")), approved()]
    state = given(decider(NEW), *history).state(D)
    command = approved_command(state, approved(), contract_registry())
    assert isinstance(command, ReplaceModel)
    assert (command.command_id, command.change_request_id) == (derived_id(REQUEST, "approved"), REQUEST)
    assert (command.model_package_id, command.actor.user) == ("pkg-2", "alice")
    when = given(decider(NEW), *history).when(command)
    (event,) = decided(when)
    assert isinstance(event, ev.ModelReplaced)
    assert (event.model_package.id, event.change_request_id) == ("pkg-2", REQUEST)
    after = accepted(when)
    assert after.held[0].ran
    assert approved_command(after, approved(), contract_registry()) is None
    given(decider(NEW), *history, event).when(command).then_rejected(
        "change-request-not-approved", reason_contains="has run already"
    )


def test_an_approved_command_that_fails_its_checks_now_is_rejected_and_counts_as_run() -> None:
    history = [GUARDED, *opened_for(replace("pkg-2")), approved()]
    now_not_ready = spec("pkg-2", ready=False)
    command = approved_command(given(decider(NEW), *history).state(D), approved(), contract_registry())
    assert command is not None
    when = given(decider(now_not_ready), *history).when(command)
    (event,) = decided(when)
    assert isinstance(event, ev.ModelReplacementRejected)
    assert event.change_request_id == REQUEST
    assert accepted(when).held[0].ran


def test_a_request_not_approved_or_not_ours_or_for_another_command_does_not_run() -> None:
    opened = opened_for(replace("pkg-2"))
    forged = replace("pkg-2", command_id="c-x", change_request_id="cr-forged")
    given(decider(NEW), GUARDED, *opened).when(forged).then_rejected(
        "change-request-not-approved", reason_contains="not a change request this service opened"
    )
    open_only = replace("pkg-2", command_id="c-x", change_request_id=REQUEST)
    given(decider(NEW), GUARDED, *opened).when(open_only).then_rejected(
        "change-request-not-approved", reason_contains="is open, not approved"
    )
    rejected = ev.ChangeRequestRejected(deployment_id=D, change_request_id=REQUEST, rejected_by="bob")
    given(decider(NEW), GUARDED, *opened, rejected).when(open_only).then_rejected(
        "change-request-not-approved", reason_contains="is rejected"
    )
    other = replace("pkg-3", command_id="c-x", change_request_id=REQUEST)
    given(decider(NEW, spec("pkg-3")), GUARDED, *opened, approved()).when(other).then_rejected(
        "change-request-not-approved", reason_contains="holds another command"
    )
    state = given(decider(NEW), GUARDED, *opened, rejected).state(D)
    assert approved_command(state, approved(), contract_registry()) is None


def test_requests_of_other_services_are_not_tracked() -> None:
    actions_request = ev.ChangeRequestOpened(
        deployment_id=D,
        change_request_id="cr-actions",
        action="DeleteDeployment",
        command={},
        requested_by="alice",
        expires_at=NOW,
    )
    assert given(decider(), GUARDED, actions_request).state(D).held == ()


def test_an_approval_loads_the_package_its_held_command_names() -> None:
    # The approval batch carries no command naming the package: only the held one does.
    state = accepted(given(decider(NEW), GUARDED).when(replace("pkg-2"), now=NOW))
    assert "pkg-2" in packages_needed(state, [])
