"""One access rule: the pure predicates (reads by id) and the database filter (list and summary)
agree on every combination of caller, role, status and creation."""

from __future__ import annotations

import itertools
from typing import Any

from services.inventory.adapters.query import visible_to
from services.inventory.domain.access import LISTED_STATUSES, READABLE_STATUSES, Caller, listed, readable
from services.inventory.domain.evolve import evolve
from services.inventory.domain.state import DeploymentView
from shared.contract import events as ev
from shared.contract.events.values import DeploymentStatus, PrincipalType, Role
from shared.contract.messages import Message
from shared.domain.recorded import Recorded
from tests.support import at
from tests.support import created as created_event

CALLERS = [
    Caller(user="alice"),
    Caller(user="bob", groups=("ml",)),
    Caller(user="root", admin=True),
]
GRANTS = [
    (),
    (("alice", Role.OWNER),),
    (("alice", Role.USER),),
    (("alice", Role.CONSUMER),),
    (("ml", Role.USER),),
    (("ml", Role.CONSUMER), ("bob", Role.CONSUMER)),
    (("carol", Role.OWNER),),
]


def deployment(created: bool, status: DeploymentStatus | None, grants: tuple[tuple[str, Role], ...]) -> DeploymentView:
    """Folded from events, as the projection stores it (role arrays and all)."""
    events: list[Message] = []
    if created:
        initial = status if status in LISTED_STATUSES else DeploymentStatus.ACTIVE  # deletion comes as events
        events.append(created_event("d1", created_by="zed", status=initial))
    for principal, role in grants:
        kind = PrincipalType.GROUP if principal == "ml" else PrincipalType.USER
        events.append(ev.DeploymentShared(deployment_id="d1", principal=principal, principal_type=kind, role=role))
    if status in (DeploymentStatus.DELETED, DeploymentStatus.ERASED):
        events.append(ev.DeploymentDeleted(deployment_id="d1"))
    if status is DeploymentStatus.ERASED:
        events.append(ev.DeploymentErased(deployment_id="d1"))
    view = DeploymentView(deployment_id="d1")
    for n, message in enumerate(events):
        view = evolve(view, Recorded(message, id=f"e{n}", time=at(n), subject="d1"))
    assert view.status == (status if created else None)
    return view


def matches(document: dict[str, Any], condition: dict[str, Any]) -> bool:
    """The few MongoDB operators the access filter uses: $and, $or, $in and equality (array-aware)."""
    for key, expected in condition.items():
        if key == "$and":
            ok = all(matches(document, part) for part in expected)
        elif key == "$or":
            ok = any(matches(document, part) for part in expected)
        else:
            value = document.get(key)
            values = value if isinstance(value, list) else [value]
            wanted = expected["$in"] if isinstance(expected, dict) else [expected]
            assert not isinstance(expected, dict) or set(expected) == {"$in"}, f"unsupported operator {expected}"
            ok = any(v in wanted for v in values)
        if not ok:
            return False
    return True


def test_the_list_filter_and_the_predicates_agree() -> None:
    disagreements = []
    cases = [(True, status) for status in DeploymentStatus] + [(False, None)]
    for caller, (created, status), grants in itertools.product(CALLERS, cases, GRANTS):
        view = deployment(created, status, grants)
        stored = view.model_dump(mode="json")
        if matches(stored, visible_to(caller)) != listed(caller, view):
            disagreements.append(("listed", caller.user, created, status, grants))
        if matches(stored, visible_to(caller, READABLE_STATUSES)) != readable(caller, view):
            disagreements.append(("readable", caller.user, created, status, grants))
    assert disagreements == []


def test_the_rule_itself() -> None:
    alice, bob, root = CALLERS
    owned = deployment(True, DeploymentStatus.ACTIVE, (("alice", Role.OWNER),))
    assert listed(alice, owned) and not listed(bob, owned) and listed(root, owned)
    via_group = deployment(True, DeploymentStatus.INACTIVE, (("ml", Role.USER),))
    assert listed(bob, via_group) and not listed(alice, via_group)
    consumer = deployment(True, DeploymentStatus.ACTIVE, (("alice", Role.CONSUMER),))
    assert not readable(alice, consumer)
    deleted = deployment(True, DeploymentStatus.DELETED, (("alice", Role.OWNER),))
    assert readable(alice, deleted) and not listed(alice, deleted)
    erased = deployment(True, DeploymentStatus.ERASED, (("alice", Role.OWNER),))
    assert not readable(root, erased)
    uncreated = deployment(False, None, (("alice", Role.OWNER),))  # shared before its creation arrived
    assert not readable(root, uncreated)
