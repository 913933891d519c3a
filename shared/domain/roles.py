"""A caller's role on a deployment, as every command side reads it (DataRobot's roles, plus admins).

- A caller's role is the highest of the grants to their user and to any of their groups
  (OWNER > USER > CONSUMER). An ORGANIZATION grant matches nobody: callers carry no organization.
- An admin has every role (`has_role`, `require`); `role_of` is the caller's own role, admin not considered.
What each role may do is each service's rule; this module only reads the grants.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shared.contract.events.values import PrincipalType, Role
from shared.contract.messages import Actor
from shared.domain.codes import FORBIDDEN
from shared.domain.decider import Rejection

RANK: dict[Role, int] = {Role.CONSUMER: 0, Role.USER: 1, Role.OWNER: 2}


class Grant(Protocol):
    @property
    def principal(self) -> str: ...

    @property
    def principal_type(self) -> PrincipalType: ...

    @property
    def role(self) -> Role: ...


class Granted(Protocol):
    """What the rules read of a deployment's state."""

    @property
    def deployment_id(self) -> str: ...

    @property
    def grants(self) -> Sequence[Grant]: ...


def role_of(state: Granted, actor: Actor) -> Role | None:
    """The actor's own role from the deployment's grants (admin not considered); None if it has none."""
    roles = [
        grant.role
        for grant in state.grants
        if (grant.principal_type is PrincipalType.USER and grant.principal == actor.user)
        or (grant.principal_type is PrincipalType.GROUP and grant.principal in actor.groups)
    ]
    return max(roles, key=RANK.__getitem__, default=None)


def has_role(state: Granted, actor: Actor, needed: Role) -> bool:
    if actor.admin:
        return True
    role = role_of(state, actor)
    return role is not None and RANK[role] >= RANK[needed]


def require(state: Granted, actor: Actor, needed: Role, what: str) -> Rejection | None:
    """None when the actor may do `what`; else the refusal, naming the role they have and the one needed."""
    if has_role(state, actor, needed):
        return None
    role = role_of(state, actor)
    has = f"has role {role}" if role else "has no role"
    return Rejection(FORBIDDEN, f"{actor.user} {has} on deployment {state.deployment_id}; {what} needs {needed}")


def require_admin(actor: Actor, what: str) -> Rejection | None:
    if actor.admin:
        return None
    return Rejection(FORBIDDEN, f"{what} is for admins only; {actor.user} is not one")
