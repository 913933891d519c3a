"""What a command means for a deployment now: the events it ends in, or why it is refused. Pure.

`decide(state, command, now, packages=..., policy=...)`: `packages` holds the catalog entries the
command may need (the handler loads them, see `decider.packages_needed`); a package missing from it is
one the service has not seen, and the command is refused with `package-unknown` before anything is
decided. Order of the rules for a change of champion (replace, rollback, promote):

1. refusals that need no checks: unknown or erased deployment, unknown package or challenger, nothing
   to roll back, a change request id that is not an approved, unrun request of this command;
2. the checks: failing ends in `ModelReplacementRejected` with them (the champion stays);
3. on a guarded deployment without approval: `ModelReplacementValidated` and `ChangeRequestOpened`
   holding the command (one pending change of champion at a time);
4. otherwise `ModelReplaced` with the checks (and, for a promotion, `ChallengerRemoved`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.replacement.domain import checks, codes
from services.replacement.domain.packages import NO_PACKAGES, Packages, PackageSpec
from services.replacement.domain.policy import DEFAULT_POLICY, Policy
from services.replacement.domain.state import MAX_CHALLENGERS, ChangeRequestStatus, ReplacementState
from services.replacement.domain.validation import Validation, known_package, unknown_or_erased, validate
from shared.contract import events as ev
from shared.contract.commands.replacement import (
    AddChallenger,
    PromoteChallenger,
    RemoveChallenger,
    ReplacementCommand,
    ReplaceModel,
    RollbackModel,
    ValidateReplacement,
)
from shared.contract.envelope import derived_id
from shared.contract.events.values import DeploymentStatus, ValidationStatus
from shared.contract.messages import Event
from shared.domain.decider import Decision, Rejection

ChampionChange = ReplaceModel | RollbackModel | PromoteChallenger
HOLDABLE: tuple[type[ReplacementCommand], ...] = (ReplaceModel, RollbackModel, PromoteChallenger)
"""The commands a change request may hold: every change of champion."""
_NOT_THE_COMMAND = {"command_id", "change_request_id"}


def decide(
    state: ReplacementState,
    command: ReplacementCommand,
    now: datetime,
    *,
    packages: Packages = NO_PACKAGES,
    policy: Policy = DEFAULT_POLICY,
) -> Decision:
    if (refused := unknown_or_erased(state)) is not None:
        return refused
    if isinstance(command, ValidateReplacement):
        return validate_replacement(state, command, packages)
    if isinstance(command, ReplaceModel):
        spec = known_package(packages, command.model_package_id)
        return spec if isinstance(spec, Rejection) else change_champion(state, command, spec, now, packages, policy)
    if isinstance(command, RollbackModel):
        return rollback(state, command, now, packages, policy)
    if isinstance(command, PromoteChallenger):
        return promote(state, command, now, packages, policy)
    if isinstance(command, AddChallenger):
        return add_challenger(state, command, packages)
    if isinstance(command, RemoveChallenger):
        return remove_challenger(state, command)
    return Rejection(codes.UNKNOWN_COMMAND, f"the replacement service does not handle {command.type_name}")


def validate_replacement(state: ReplacementState, command: ValidateReplacement, packages: Packages) -> Decision:
    spec = known_package(packages, command.model_package_id)
    if isinstance(spec, Rejection):
        return spec
    return [_validated(state, validate(state, spec, command.actor, packages), command.actor.user)]


def rollback(
    state: ReplacementState, command: RollbackModel, now: datetime, packages: Packages, policy: Policy
) -> Decision:
    target = state.rollback_target
    if target is None:
        return Rejection(
            codes.NOTHING_TO_ROLL_BACK,
            f"deployment {state.deployment_id} has no previous champion to roll back to",
        )
    spec = known_package(packages, target.model_package.id)
    return spec if isinstance(spec, Rejection) else change_champion(state, command, spec, now, packages, policy)


def promote(
    state: ReplacementState, command: PromoteChallenger, now: datetime, packages: Packages, policy: Policy
) -> Decision:
    challenger = state.challenger(command.challenger_id)
    if challenger is None:
        return Rejection(
            codes.CHALLENGER_UNKNOWN, f"deployment {state.deployment_id} has no challenger {command.challenger_id}"
        )
    spec = known_package(packages, challenger.model_package.id)
    return spec if isinstance(spec, Rejection) else change_champion(state, command, spec, now, packages, policy)


def change_champion(
    state: ReplacementState,
    command: ChampionChange,
    new: PackageSpec,
    now: datetime,
    packages: Packages,
    policy: Policy,
) -> Decision:
    if command.change_request_id is not None and (refused := _not_approved(state, command)) is not None:
        return refused
    challenger_id = command.challenger_id if isinstance(command, PromoteChallenger) else None
    rolling_back = isinstance(command, RollbackModel)
    validation = validate(state, new, command.actor, packages, promoting=challenger_id)
    actor = command.actor.user
    if validation.status is ValidationStatus.FAILING:
        return [
            ev.ModelReplacementRejected(
                deployment_id=state.deployment_id,
                model_package_id=new.id,
                reason=validation.summary(),
                checks=validation.as_dict(),
                previous_model_package_id=validation.previous_model_package_id,
                replacement_reason=command.reason,
                actor=actor,
                rollback=rolling_back,
                challenger_id=challenger_id,
                change_request_id=command.change_request_id,
            )
        ]
    if command.change_request_id is None and policy.guards(state):
        return _hold(state, command, validation, now, policy)
    events: list[Event] = [
        ev.ModelReplaced(
            deployment_id=state.deployment_id,
            previous_model_package_id=validation.previous_model_package_id,
            model_package=new.ref,
            reason=command.reason,
            validation_status=validation.status,
            checks=validation.as_dict(),
            actor=actor,
            note=command.note,
            rollback=rolling_back,
            challenger_id=challenger_id,
            change_request_id=command.change_request_id,
        )
    ]
    if challenger_id is not None:
        events.append(
            ev.ChallengerRemoved(
                deployment_id=state.deployment_id,
                challenger_id=challenger_id,
                model_package_id=new.id,
                actor=actor,
                promoted=True,
            )
        )
    return events


def add_challenger(state: ReplacementState, command: AddChallenger, packages: Packages) -> Decision:
    spec = known_package(packages, command.model_package_id)
    if isinstance(spec, Rejection):
        return spec
    validation = validate(state, spec, command.actor, packages, what="adding a challenger")
    if validation.status is ValidationStatus.FAILING:
        code = codes.FORBIDDEN if "permission" in validation.failing else codes.CHECKS_FAILING
        return Rejection(code, validation.summary())
    if len(state.challengers) >= MAX_CHALLENGERS:
        held = ", ".join(c.id for c in state.challengers)
        return Rejection(
            codes.CHALLENGER_LIMIT,
            f"deployment {state.deployment_id} has {MAX_CHALLENGERS} challengers already ({held}): remove one first",
        )
    return [
        ev.ChallengerAdded(
            deployment_id=state.deployment_id,
            challenger_id=derived_id(command.command_id, "challenger"),
            model_package=spec.ref,
            prediction_environment_id=command.prediction_environment_id,
            validation_status=validation.status,
            checks=validation.as_dict(),
            actor=command.actor.user,
        )
    ]


def remove_challenger(state: ReplacementState, command: RemoveChallenger) -> Decision:
    allowed = checks.permission(state, command.actor, what="removing a challenger")
    if allowed.status is ValidationStatus.FAILING:
        return Rejection(codes.FORBIDDEN, allowed.message)
    if state.status is DeploymentStatus.DELETED:
        return Rejection(codes.DEPLOYMENT_DELETED, f"deployment {state.deployment_id} is deleted")
    if command.challenger_id is not None:
        challenger, named = state.challenger(command.challenger_id), f"challenger {command.challenger_id}"
    else:
        package = command.model_package_id or ""
        challenger, named = state.challenger_of_package(package), f"a challenger of package {package}"
    if challenger is None:
        return Rejection(codes.CHALLENGER_UNKNOWN, f"deployment {state.deployment_id} has no {named}")
    return [
        ev.ChallengerRemoved(
            deployment_id=state.deployment_id,
            challenger_id=challenger.id,
            model_package_id=challenger.model_package.id,
            actor=command.actor.user,
        )
    ]


def _validated(state: ReplacementState, validation: Validation, actor: str) -> ev.ModelReplacementValidated:
    return ev.ModelReplacementValidated(
        deployment_id=state.deployment_id,
        model_package_id=validation.model_package_id,
        status=validation.status,
        checks=validation.as_dict(),
        previous_model_package_id=validation.previous_model_package_id,
        actor=actor,
    )


def _hold(
    state: ReplacementState, command: ChampionChange, validation: Validation, now: datetime, policy: Policy
) -> Decision:
    pending = [h.change_request_id for h in state.held if h.is_open(now)]
    if pending:
        return Rejection(
            codes.CHANGE_REQUEST_PENDING,
            f"deployment {state.deployment_id} already has a change of model waiting for approval ({pending[0]})",
        )
    why = f"{command.type_name} ({command.reason}) on a {state.importance} deployment"
    return [
        _validated(state, validation, command.actor.user),
        ev.ChangeRequestOpened.holding(
            command,
            change_request_id=derived_id(command.command_id, "change-request"),
            expires_at=now + policy.change_request_ttl,
            reason=f"{why}: {command.note}" if command.note else why,
        ),
    ]


def _not_approved(state: ReplacementState, command: ChampionChange) -> Rejection | None:
    """None when the command is the one an approved change request of this service holds, not yet run."""
    request_id = command.change_request_id or ""
    held = state.held_command(request_id)
    problem = None
    if held is None:
        problem = "is not a change request this service opened"
    elif held.status is not ChangeRequestStatus.APPROVED:
        problem = f"is {held.status}, not approved"
    elif held.ran:
        problem = "has run already"
    elif held.action != command.type_name or _body(held.command) != _body(command.model_dump(mode="json")):
        problem = f"holds another command ({held.action})"
    if problem is None:
        return None
    return Rejection(codes.CHANGE_REQUEST_NOT_APPROVED, f"change request {request_id} {problem}")


def _body(command: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in command.items() if key not in _NOT_THE_COMMAND}
