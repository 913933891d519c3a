"""Who the caller is on a deployment: the highest role granted to their user or one of their groups
(OWNER > USER > CONSUMER), as the actions service reads it. Admins are handled by the permission check."""

from __future__ import annotations

from services.replacement.domain.state import ReplacementState
from shared.contract.events.values import PrincipalType, Role
from shared.contract.messages import Actor

RANK: dict[Role, int] = {Role.CONSUMER: 0, Role.USER: 1, Role.OWNER: 2}


def role_of(state: ReplacementState, actor: Actor) -> Role | None:
    roles = [
        grant.role
        for grant in state.grants
        if (grant.principal_type is PrincipalType.USER and grant.principal == actor.user)
        or (grant.principal_type is PrincipalType.GROUP and grant.principal in actor.groups)
    ]
    return max(roles, key=RANK.__getitem__, default=None)
