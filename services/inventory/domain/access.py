"""Who may read a deployment: one rule for the list, the summary and reads by id.

A caller sees a deployment when it is an admin, or when it holds one of the seeing roles (OWNER,
USER) on it, directly or through one of its groups; a CONSUMER may send predictions but does not
see the deployment. A deployment is readable by id from its creation until it is erased, and listed
(and counted in the summary) only until it is deleted.

The predicates here are pure; the database filter in services.inventory.adapters.query is built from
the same constants, and tests check that both agree on every combination.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Protocol

from shared.contract.events.values import DeploymentStatus, Role

SEEING_ROLES: tuple[Role, ...] = (Role.OWNER, Role.USER)
READABLE_STATUSES: tuple[DeploymentStatus, ...] = tuple(s for s in DeploymentStatus if s is not DeploymentStatus.ERASED)
LISTED_STATUSES: tuple[DeploymentStatus, ...] = tuple(s for s in READABLE_STATUSES if s is not DeploymentStatus.DELETED)


@dataclasses.dataclass(frozen=True)
class Caller:
    """The authenticated user asking, with the groups it belongs to."""

    user: str
    groups: tuple[str, ...] = ()
    admin: bool = False

    @property
    def principals(self) -> list[str]:
        return [self.user, *self.groups]


class Grant(Protocol):
    @property
    def principal(self) -> str: ...

    @property
    def role(self) -> Role: ...


class Guarded(Protocol):
    """What the rule reads of a deployment."""

    @property
    def created(self) -> bool: ...

    @property
    def status(self) -> DeploymentStatus | None: ...

    @property
    def access(self) -> Iterable[Grant]: ...


def may_see(caller: Caller, grants: Iterable[Grant]) -> bool:
    """An admin, or a caller holding a seeing role itself or through a group."""
    if caller.admin:
        return True
    principals = set(caller.principals)
    return any(grant.role in SEEING_ROLES and grant.principal in principals for grant in grants)


def readable(caller: Caller, deployment: Guarded) -> bool:
    """May `caller` read this deployment by id? Not found and not allowed must look alike to callers."""
    return deployment.created and deployment.status in READABLE_STATUSES and may_see(caller, deployment.access)


def listed(caller: Caller, deployment: Guarded) -> bool:
    """Is this deployment in `caller`'s list and summary?"""
    return readable(caller, deployment) and deployment.status in LISTED_STATUSES
