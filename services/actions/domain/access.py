"""Sharing and revoking: a USER may share up to USER; only an OWNER may grant OWNER or change or
revoke an OWNER's grant (an admin counts as an OWNER). The last OWNER can be neither demoted nor
removed (`last-owner`), so a deployment always has someone who may act on it."""

from __future__ import annotations

from services.actions.domain import codes
from services.actions.domain.state import DeploymentState, Grant
from shared.contract import events as ev
from shared.contract.commands import actions as cmd
from shared.contract.events.values import Role
from shared.domain.decider import Decision, Rejection
from shared.domain.roles import require


def share(state: DeploymentState, c: cmd.ShareDeployment) -> Decision:
    current = state.grant_of(c.principal)
    touches_an_owner = c.role is Role.OWNER or (current is not None and current.role is Role.OWNER)
    refused = require(state, c.actor, Role.OWNER if touches_an_owner else Role.USER, f"sharing as {c.role}")
    if refused:
        return refused
    if current == Grant(principal=c.principal, principal_type=c.principal_type, role=c.role):
        return Rejection(codes.NO_CHANGE, f"{c.principal} has role {c.role} on {state.deployment_id} already")
    if current is not None and current.role is Role.OWNER and c.role is not Role.OWNER and _last_owner(state):
        return _last_owner_refusal(state, c.principal, "demoted")
    return [
        ev.DeploymentShared(
            deployment_id=c.deployment_id, principal=c.principal, principal_type=c.principal_type, role=c.role
        )
    ]


def revoke(state: DeploymentState, c: cmd.RevokeAccess) -> Decision:
    current = state.grant_of(c.principal)
    needed = Role.OWNER if current is not None and current.role is Role.OWNER else Role.USER
    refused = require(state, c.actor, needed, "revoking access")
    if refused:
        return refused
    if current is None:
        return Rejection(codes.NOT_SHARED, f"{c.principal} has no role on {state.deployment_id}")
    if current.role is Role.OWNER and _last_owner(state):
        return _last_owner_refusal(state, c.principal, "removed")
    return [ev.DeploymentAccessRevoked(deployment_id=c.deployment_id, principal=c.principal)]


def _last_owner(state: DeploymentState) -> bool:
    return len(state.owners) <= 1


def _last_owner_refusal(state: DeploymentState, principal: str, what: str) -> Rejection:
    return Rejection(
        codes.LAST_OWNER,
        f"{principal} is the last OWNER of {state.deployment_id} and cannot be {what}; add another first",
    )
