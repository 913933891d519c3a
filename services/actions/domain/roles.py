"""Who may do what: roles as DataRobot has them, plus admins.

- A caller's role is the highest of the grants to their user and to any of their groups
  (OWNER > USER > CONSUMER). An ORGANIZATION grant matches nobody: callers carry no organization.
- CONSUMER may do nothing here; USER may share (up to USER); OWNER may do everything but erase.
- An admin may do everything an OWNER may, on every deployment (the operator of last resort, e.g. when
  every owner has left), and is the only one who may erase. Admin or not, a guarded command still
  waits for a second person's approval.
"""

from __future__ import annotations

from services.actions.domain import codes
from services.actions.domain.state import DeploymentState
from shared.contract.events.values import PrincipalType, Role
from shared.contract.messages import Actor
from shared.domain.decider import Rejection

RANK: dict[Role, int] = {Role.CONSUMER: 0, Role.USER: 1, Role.OWNER: 2}


def role_of(state: DeploymentState, actor: Actor) -> Role | None:
    """The actor's own role from the deployment's grants (admin not considered); None if it has none."""
    roles = [
        grant.role
        for grant in state.grants
        if (grant.principal_type is PrincipalType.USER and grant.principal == actor.user)
        or (grant.principal_type is PrincipalType.GROUP and grant.principal in actor.groups)
    ]
    return max(roles, key=RANK.__getitem__, default=None)


def has_role(state: DeploymentState, actor: Actor, needed: Role) -> bool:
    if actor.admin:
        return True
    role = role_of(state, actor)
    return role is not None and RANK[role] >= RANK[needed]


def require(state: DeploymentState, actor: Actor, needed: Role, what: str) -> Rejection | None:
    """None when the actor may do `what`; else the refusal, naming the role they have and the one needed."""
    if has_role(state, actor, needed):
        return None
    role = role_of(state, actor)
    has = f"has role {role}" if role else "has no role"
    return Rejection(codes.FORBIDDEN, f"{actor.user} {has} on deployment {state.deployment_id}; {what} needs {needed}")


def require_admin(state: DeploymentState, actor: Actor, what: str) -> Rejection | None:
    if actor.admin:
        return None
    return Rejection(codes.FORBIDDEN, f"{what} is for admins only; {actor.user} is not one")
