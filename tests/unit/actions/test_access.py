"""Roles from users and groups, sharing up to one's own role, and the last OWNER rule."""

from __future__ import annotations

import pytest

from services.actions.domain.decider import deployments
from services.actions.domain.state import Grant
from shared.contract import events as ev
from shared.contract.commands import actions as cmd
from shared.contract.events.values import PrincipalType, Role
from shared.contract.messages import Actor
from shared.domain.roles import role_of
from shared.domain.testing import given
from tests.unit.actions.builders import ADAM, DEPLOYMENT, GINA, OLIVIA, OWEN, UMA, command, created, shared, team

GROUP = PrincipalType.GROUP


def share(
    actor: Actor, principal: str, role: Role, principal_type: PrincipalType = PrincipalType.USER
) -> cmd.ShareDeployment:
    return command(cmd.ShareDeployment, actor, principal=principal, role=role, principal_type=principal_type)


def revoke(actor: Actor, principal: str) -> cmd.RevokeAccess:
    return command(cmd.RevokeAccess, actor, principal=principal)


@pytest.mark.parametrize(
    ("grants", "actor", "role"),
    [
        ([], Actor(user="x"), None),
        ([shared("x", Role.CONSUMER)], Actor(user="x"), Role.CONSUMER),
        ([shared("x", Role.CONSUMER), shared("g", Role.USER, GROUP)], Actor(user="x", groups=("g",)), Role.USER),
        ([shared("x", Role.OWNER), shared("g", Role.CONSUMER, GROUP)], Actor(user="x", groups=("g",)), Role.OWNER),
        (
            [shared("g1", Role.USER, GROUP), shared("g2", Role.OWNER, GROUP)],
            Actor(user="x", groups=("g1", "g2")),
            Role.OWNER,
        ),
        # a grant matches by its type: a user named like the caller's group is someone else
        ([shared("g", Role.OWNER)], Actor(user="x", groups=("g",)), None),
        ([shared("x", Role.OWNER, GROUP)], Actor(user="x"), None),
        # an organization grant matches nobody: callers carry no organization
        ([shared("acme", Role.OWNER, PrincipalType.ORGANIZATION)], Actor(user="acme", groups=("acme",)), None),
    ],
)
def test_a_callers_role_is_the_highest_of_their_user_and_group_grants(
    grants: list[ev.DeploymentShared], actor: Actor, role: Role | None
) -> None:
    state = given(deployments, created(created_by="creator"), *grants).state(DEPLOYMENT)
    assert role_of(state, actor) is role


def test_a_group_role_lets_its_members_act() -> None:
    given(deployments, *team()).when(command(cmd.DeactivateDeployment, GINA)).then(
        ev.DeploymentDeactivated(deployment_id=DEPLOYMENT)
    )
    outsider = Actor(user="gina")  # the same user without the group
    given(deployments, *team()).when(command(cmd.DeactivateDeployment, outsider)).then_rejected("forbidden")


def test_the_creator_and_the_named_owners_own_a_created_deployment() -> None:
    state = given(deployments, created(owners=("owen", "olivia"))).state(DEPLOYMENT)
    assert state.grants == (Grant(principal="olivia", role=Role.OWNER), Grant(principal="owen", role=Role.OWNER))


def test_a_user_shares_up_to_user_but_cannot_grant_or_touch_owner() -> None:
    given(deployments, *team()).when(share(UMA, "dave", Role.CONSUMER)).then(shared("dave", Role.CONSUMER))
    given(deployments, *team()).when(share(UMA, "dave", Role.USER)).then(shared("dave", Role.USER))
    given(deployments, *team()).when(share(UMA, "dave", Role.OWNER)).then_rejected("forbidden", reason_contains="OWNER")
    given(deployments, *team()).when(share(UMA, "owen", Role.USER)).then_rejected("forbidden")
    given(deployments, *team()).when(revoke(UMA, "owen")).then_rejected("forbidden")
    given(deployments, *team()).when(revoke(UMA, "connie")).then(
        ev.DeploymentAccessRevoked(deployment_id=DEPLOYMENT, principal="connie")
    )


def test_an_owner_shares_with_a_group_and_the_role_replaces_the_previous_one() -> None:
    state = given(deployments, *team()).when(share(OLIVIA, "uma", Role.OWNER)).then(shared("uma", Role.OWNER))
    assert state.grant_of("uma") == Grant(principal="uma", role=Role.OWNER)
    state = (
        given(deployments, *team())
        .when(share(OLIVIA, "data-eng", Role.USER, GROUP))
        .then(shared("data-eng", Role.USER, GROUP))
    )
    assert role_of(state, Actor(user="zoe", groups=("data-eng",))) is Role.USER


def test_sharing_what_is_already_granted_is_refused_and_so_is_revoking_nobody() -> None:
    given(deployments, *team()).when(share(OLIVIA, "uma", Role.USER)).then_rejected("no-change")
    given(deployments, *team()).when(revoke(OLIVIA, "dave")).then_rejected("not-shared", reason_contains="dave")


def test_the_last_owner_can_be_neither_removed_nor_demoted() -> None:
    alone = [created(), shared("uma", Role.USER)]
    given(deployments, *alone).when(revoke(OLIVIA, "olivia")).then_rejected("last-owner", reason_contains="olivia")
    given(deployments, *alone).when(share(OLIVIA, "olivia", Role.USER)).then_rejected("last-owner")
    given(deployments, *alone).when(revoke(ADAM, "olivia")).then_rejected("last-owner")


def test_with_a_second_owner_one_may_go_and_then_the_other_is_the_last() -> None:
    two = [created(owners=("owen",))]
    state = (
        given(deployments, *two)
        .when(revoke(OWEN, "olivia"))
        .then(ev.DeploymentAccessRevoked(deployment_id=DEPLOYMENT, principal="olivia"))
    )
    assert state.owners == ("owen",)
    after = [*two, ev.DeploymentAccessRevoked(deployment_id=DEPLOYMENT, principal="olivia")]
    given(deployments, *after).when(share(OWEN, "owen", Role.CONSUMER)).then_rejected("last-owner")


def test_an_owner_group_counts_as_an_owner() -> None:
    with_group = [created(), shared("ml-owners", Role.OWNER, GROUP)]
    given(deployments, *with_group).when(revoke(GINA, "olivia")).then(
        ev.DeploymentAccessRevoked(deployment_id=DEPLOYMENT, principal="olivia")
    )
    only_group = [*with_group, ev.DeploymentAccessRevoked(deployment_id=DEPLOYMENT, principal="olivia")]
    given(deployments, *only_group).when(revoke(GINA, "ml-owners")).then_rejected("last-owner")


def test_an_admin_without_a_grant_acts_as_an_owner() -> None:
    given(deployments, *team()).when(share(ADAM, "dave", Role.OWNER)).then(shared("dave", Role.OWNER))
