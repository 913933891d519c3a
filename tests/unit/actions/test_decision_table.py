"""The decision table: every deployment action x every state x every role, on a deployment of MODERATE
importance (no change request; those are in test_change_requests.py).

Two explicit tables say what each action needs: the least role that may run it (WHO_MAY), and what it
ends in, in each state, for someone who may (IN_STATE). Precedence, as the issue has it: an unknown
deployment is `not-found`, an erased one refuses everything, a deleted one everything but erasure,
whoever asks; then the role; then the state machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from services.actions.domain.decider import deployments
from shared.contract import events as ev
from shared.contract.commands import actions as cmd
from shared.contract.events.values import DeploymentStatus, Importance, Role
from shared.contract.messages import Actor, Event
from shared.domain.decider import Rejection
from shared.domain.testing import given
from tests.unit.actions.builders import ADAM, CONNIE, DEPLOYMENT, GINA, NINA, OLIVIA, UMA, aware, command, created, team

ACTIONS: dict[str, Callable[[Actor], cmd.ActionsCommand]] = {
    "activate": lambda a: command(cmd.ActivateDeployment, a),
    "deactivate": lambda a: command(cmd.DeactivateDeployment, a),
    "delete": lambda a: command(cmd.DeleteDeployment, a),
    "erase": lambda a: command(cmd.EraseDeployment, a),
    "importance": lambda a: command(cmd.ChangeImportance, a, importance=Importance.LOW),
    "settings": lambda a: command(cmd.ChangeDeploymentSettings, a, label="Churn v2"),
    "share": lambda a: command(cmd.ShareDeployment, a, principal="dave", role=Role.USER),
    "revoke": lambda a: command(cmd.RevokeAccess, a, principal="connie"),
    "clear": lambda a: command(cmd.ClearStatistics, a, start=aware(2026, 1, 1), end=aware(2026, 2, 1)),
}

ADMIN = "admin"
WHO_MAY: dict[str, Role | str] = {
    "activate": Role.OWNER,
    "deactivate": Role.OWNER,
    "delete": Role.OWNER,
    "erase": ADMIN,
    "importance": Role.OWNER,
    "settings": Role.OWNER,
    "share": Role.USER,
    "revoke": Role.USER,
    "clear": Role.OWNER,
}
ROLES: dict[str, tuple[Actor, set[Role | str]]] = {
    # caller: who they are, and which WHO_MAY entries they satisfy
    "no role": (NINA, set()),
    "consumer": (CONNIE, set()),
    "user": (UMA, {Role.USER}),
    "owner": (OLIVIA, {Role.USER, Role.OWNER}),
    "owner by group": (GINA, {Role.USER, Role.OWNER}),
    "admin": (ADAM, {Role.USER, Role.OWNER, ADMIN}),
}

Outcome = type[Event] | str
LIVE = ("launching", "active", "inactive", "errored")
IN_STATE: dict[str, dict[str, Outcome]] = {
    # action: live state -> what it ends in for a caller who may run it
    "activate": {
        "launching": "deployment-launching",
        "active": "already-active",
        "inactive": ev.DeploymentActivated,
        "errored": ev.DeploymentActivated,
    },
    "deactivate": {
        "launching": ev.DeploymentDeactivated,
        "active": ev.DeploymentDeactivated,
        "inactive": "already-inactive",
        "errored": ev.DeploymentDeactivated,
    },
    "delete": dict.fromkeys(LIVE, ev.DeploymentDeleted),
    "erase": dict.fromkeys(LIVE, "not-deleted"),
    "importance": dict.fromkeys(LIVE, ev.DeploymentImportanceChanged),
    "settings": dict.fromkeys(LIVE, ev.DeploymentSettingsChanged),
    "share": dict.fromkeys(LIVE, ev.DeploymentShared),
    "revoke": dict.fromkeys(LIVE, ev.DeploymentAccessRevoked),
    "clear": dict.fromkeys(LIVE, ev.DeploymentStatisticsCleared),
}

STATES: dict[str, list[Event]] = {
    "unknown": [],
    "launching": [created(status=DeploymentStatus.LAUNCHING, owners=("owen",)), *team()[1:]],
    "active": team(),
    "inactive": [*team(), ev.DeploymentDeactivated(deployment_id=DEPLOYMENT)],
    "errored": [*team(), ev.DeploymentErrored(deployment_id=DEPLOYMENT)],
    "deleted": [*team(), ev.DeploymentDeleted(deployment_id=DEPLOYMENT)],
    "erased": [*team(), ev.DeploymentDeleted(deployment_id=DEPLOYMENT), ev.DeploymentErased(deployment_id=DEPLOYMENT)],
}


def expected(action: str, state: str, role: str) -> Outcome:
    if state == "unknown":
        return "not-found"
    if state == "erased":
        return "deployment-erased"
    if state == "deleted" and action != "erase":
        return "deployment-deleted"
    if WHO_MAY[action] not in ROLES[role][1]:
        return "forbidden"
    if state == "deleted":
        return ev.DeploymentErased
    return IN_STATE[action][state]


CASES = [
    pytest.param(action, state, role, id=f"{action}-{state}-{role.replace(' ', '_')}")
    for action in ACTIONS
    for state in STATES
    for role in ROLES
]


@pytest.mark.parametrize(("action", "state", "role"), CASES)
def test_decision_table(action: str, state: str, role: str) -> None:
    actor = ROLES[role][0]
    decision = given(deployments, *STATES[state]).when(ACTIONS[action](actor)).decision
    assert _outcome(decision) == expected(action, state, role)


def test_the_table_covers_every_command_but_registration_and_the_reviews() -> None:
    covered = {type(make(OLIVIA)) for make in ACTIONS.values()}
    reviews = {cmd.ApproveChangeRequest, cmd.RejectChangeRequest, cmd.CancelChangeRequest, cmd.ExpireChangeRequest}
    assert covered == set(deployments.commands) - reviews - {cmd.RegisterDeployment}
    assert len(CASES) == 9 * 7 * 6


def test_refusals_name_the_role_the_caller_has_and_the_one_needed() -> None:
    given(deployments, *team()).when(command(cmd.ActivateDeployment, UMA)).then_rejected(
        "forbidden", reason_contains="uma has role USER on deployment d-1; activating needs OWNER"
    )
    given(deployments, *team()).when(command(cmd.ActivateDeployment, NINA)).then_rejected(
        "forbidden", reason_contains="nina has no role"
    )
    given(deployments, *STATES["deleted"]).when(command(cmd.EraseDeployment, OLIVIA)).then_rejected(
        "forbidden", reason_contains="admins only"
    )


def test_each_accepted_action_carries_what_the_command_said() -> None:
    start, end = aware(2026, 1, 1), aware(2026, 2, 1)
    given(deployments, *team()).when(
        command(cmd.ClearStatistics, OLIVIA, start=start, end=end, model_package_id="pkg-1")
    ).then(ev.DeploymentStatisticsCleared(deployment_id=DEPLOYMENT, model_package_id="pkg-1", start=start, end=end))
    given(deployments, *team()).when(command(cmd.ChangeImportance, OLIVIA, importance=Importance.HIGH)).then(
        ev.DeploymentImportanceChanged(deployment_id=DEPLOYMENT, importance=Importance.HIGH)
    )


def test_settings_name_only_the_fields_that_change_and_nothing_changing_is_refused() -> None:
    change = command(cmd.ChangeDeploymentSettings, OLIVIA, label="Churn", description="new words", tags=())
    state = (
        given(deployments, *team())
        .when(change)
        .then(ev.DeploymentSettingsChanged(deployment_id=DEPLOYMENT, description="new words"))
    )
    assert (state.label, state.description) == ("Churn", "new words")
    same = command(cmd.ChangeDeploymentSettings, OLIVIA, label="Churn", description="scores customers")
    given(deployments, *team()).when(same).then_rejected("no-change")


def test_the_same_importance_again_is_refused() -> None:
    given(deployments, *team()).when(
        command(cmd.ChangeImportance, OLIVIA, importance=Importance.MODERATE)
    ).then_rejected("no-change", reason_contains="MODERATE already")


def _outcome(decision: Any) -> Outcome:
    if isinstance(decision, Rejection):
        return decision.code
    assert len(decision) == 1, decision
    return type(decision[0])
