"""Who may do what on a deployment's retraining, from the roles the deployment stream grants.

- A caller's role is the highest of the grants to their user and to any of their groups
  (OWNER > USER > CONSUMER), as the actions service reads it; an admin counts as an OWNER.
- Settings and policies (create, update, delete): OWNER. Run a policy by hand, cancel a run: OWNER or USER.
- The retraining user must be an OWNER: checked when the settings are changed, and again when an
  automatic run prepares its data (roles change meanwhile).
"""

from __future__ import annotations

from services.retraining.domain import codes
from services.retraining.domain.state import RetrainingState
from shared.contract.events.values import PrincipalType, Role
from shared.contract.messages import Actor
from shared.domain.decider import Rejection

RANK: dict[Role, int] = {Role.CONSUMER: 0, Role.USER: 1, Role.OWNER: 2}


def role_of(state: RetrainingState, actor: Actor) -> Role | None:
    """The actor's own role from the deployment's grants (admin not considered); None if it has none."""
    roles = [
        grant.role
        for grant in state.grants
        if (grant.principal_type is PrincipalType.USER and grant.principal == actor.user)
        or (grant.principal_type is PrincipalType.GROUP and grant.principal in actor.groups)
    ]
    return max(roles, key=RANK.__getitem__, default=None)


def has_role(state: RetrainingState, actor: Actor, needed: Role) -> bool:
    if actor.admin:
        return True
    role = role_of(state, actor)
    return role is not None and RANK[role] >= RANK[needed]


def require(state: RetrainingState, actor: Actor, needed: Role, what: str) -> Rejection | None:
    """None when the actor may do `what`; else the refusal, naming the role they have and the one needed."""
    if has_role(state, actor, needed):
        return None
    role = role_of(state, actor)
    has = f"has role {role}" if role else "has no role"
    return Rejection(codes.FORBIDDEN, f"{actor.user} {has} on deployment {state.deployment_id}; {what} needs {needed}")
