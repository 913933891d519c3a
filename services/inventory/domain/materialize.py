"""The derived fields of a deployment, computed from its facts alone (so from the set of events, not
their order): what the API returns and what the database filters and sorts on."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from services.inventory.domain.state import (
    IMPORTANCE_RANK,
    Access,
    Challenger,
    Creation,
    DeploymentView,
    Facts,
    ModelHistoryEntry,
    Retraining,
    RetrainingRun,
)
from shared.contract.events.retraining import RunStatus
from shared.contract.events.values import DeploymentStatus, PrincipalType, Role
from shared.domain.fold import Stamp, Stamped

T = TypeVar("T")


def materialize(view: DeploymentView) -> DeploymentView:
    facts = view.facts
    if facts.erased:
        # Erasure keeps only the id and the fact, whatever came before or comes after.
        return DeploymentView(
            deployment_id=view.deployment_id, status=DeploymentStatus.ERASED, facts=Facts(erased=True)
        )
    creation, settings = facts.creation, facts.settings
    label = _pick(creation, lambda c: c.label, settings.label) or ""
    importance = _pick(creation, lambda c: c.importance, settings.importance)
    tags = _pick(creation, lambda c: c.tags, settings.tags) or ()
    access = _access(facts)
    champion = _champion(facts)
    return view.model_copy(
        update={
            "created": creation is not None,
            "label": label,
            "label_sort": label.casefold(),
            "description": _pick(creation, lambda c: c.description, settings.description) or "",
            "importance": importance,
            "importance_rank": IMPORTANCE_RANK[importance] if importance else -1,
            "status": _status(facts),
            "model_package": champion.model_package if champion else None,
            "model_deployed_at": champion.started_at if champion else None,
            "prediction_environment": creation.prediction_environment if creation else None,
            "access": access,
            **{field: tuple(a.principal for a in access if a.role is role) for field, role in _ROLE_FIELDS.items()},
            "tags": tags,
            "tag_terms": tuple(sorted({t.name for t in tags} | {f"{t.name}:{t.value}" for t in tags})),
            "created_at": creation.created_at if creation else None,
            "created_by": creation.created_by if creation else None,
            "challengers": tuple(
                Challenger(id=c.id, model_package=c.model_package, added_at=c.at)
                for c in sorted(facts.challengers, key=lambda c: c.stamp)
                if c.model_package is not None
            ),
            "latest_retraining_run": _latest_run(facts.retraining),
        }
    )


_ROLE_FIELDS = {"owners": Role.OWNER, "users": Role.USER, "consumers": Role.CONSUMER}


def _pick(creation: Creation | None, base: Callable[[Creation], T], later: Stamped[T] | None) -> T | None:
    """The creation's value, unless a later-stamped write replaced it; None if neither exists."""
    if later is not None and (creation is None or later.stamp > creation.stamp):
        return later.value
    return base(creation) if creation else None


def _status(facts: Facts) -> DeploymentStatus | None:
    if facts.deleted:
        return DeploymentStatus.DELETED  # absorbing: only erasure follows
    return _pick(facts.creation, lambda c: c.status, facts.settings.status)


def _access(facts: Facts) -> tuple[Access, ...]:
    """Per principal, the latest of its grant by the creation (creator and owners) and its own
    shares and revocations; ordered by when the standing grant was made."""
    standing: dict[str, tuple[Stamp, tuple[Stamp, int], Access | None]] = {}
    creation = facts.creation
    if creation:
        for index, principal in enumerate(dict.fromkeys([creation.created_by, *creation.owners])):
            grant = Access(principal=principal, principal_type=PrincipalType.USER, role=Role.OWNER)
            standing[principal] = (creation.stamp, (creation.stamp, index), grant)
    for g in facts.grants:
        if g.principal not in standing or g.stamp > standing[g.principal][0]:
            access = Access(principal=g.principal, principal_type=g.principal_type, role=g.role) if g.role else None
            standing[g.principal] = (g.stamp, (g.stamp, 0), access)
    ordered = sorted(standing.values(), key=lambda item: item[1])
    return tuple(access for _, _, access in ordered if access is not None)


def _champion(facts: Facts) -> ModelHistoryEntry | None:
    """The latest replacement by stamp, or the deployed model if none."""
    history = facts.model_history
    if facts.replacements:
        latest = max(facts.replacements, key=lambda r: r.stamp).event_id
        return next(entry for entry in history if entry.event_id == latest and entry.action == "replaced")
    return history[0] if history else None


def _latest_run(retraining: Retraining) -> RetrainingRun | None:
    run = retraining.latest
    if run is None:
        return None
    updates = {u.kind: u for u in retraining.updates if u.run_id == run.run_id}
    step, outcome = updates.get("step"), updates.get("outcome")
    return RetrainingRun(
        run_id=run.run_id,
        policy_id=run.policy_id,
        trigger=run.trigger,
        status=outcome.status if outcome and outcome.status else RunStatus.RUNNING,
        step=step.step if step else None,
        started_at=run.started_at,
        finished_at=outcome.finished_at if outcome else None,
        model_package_id=outcome.model_package_id if outcome else None,
        challenger_id=outcome.challenger_id if outcome else None,
        error=outcome.error if outcome else None,
    )
