"""The replacement service's decider, and what its handler must do beyond the kit's.

Two projections feed a decision: the deployment's state (one document per deployment, the kit's
`Decider` state) and the package catalog (one document per package, `packages.evolve_package` folded
from the registry stream). `decide` stays pure and synchronous, so the handler hands it the packages:

1. for a batch of one deployment's records, load its state, then the catalog entries
   `packages_needed(state, commands)` names (one query, ids `$in`);
2. decide each command with `decider_for(policy, Packages.of(loaded)).decide(state, command, now)`
   (or call `decide(..., packages=..., policy=...)` directly); the rest is the kit's handler unchanged.

`packages_needed` over-approximates on purpose (the champion, every challenger, every package in the
history and every package the batch names), so a command later in a batch, deciding against a state the
earlier ones changed, still finds what it needs; a package not in the catalog is simply absent, and the
command naming it is refused with `package-unknown`.

Change requests: after folding `ChangeRequestApproved`, `approved_command` gives the held command to
decide now (its id derived from the request's, so a re-run is the same command); the handler decides
it like any other command, in the same document write.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from services.replacement.domain.decide import HOLDABLE, decide
from services.replacement.domain.evolve import FOLDED, evolve
from services.replacement.domain.packages import NO_PACKAGES, Packages
from services.replacement.domain.policy import DEFAULT_POLICY, Policy
from services.replacement.domain.state import ChangeRequestStatus, ReplacementState
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
from shared.contract.events import ChangeRequestApproved
from shared.contract.messages import MessageRegistry
from shared.domain.decider import Decider, Decision

COMMANDS: tuple[type[ReplacementCommand], ...] = (
    ValidateReplacement,
    ReplaceModel,
    RollbackModel,
    AddChallenger,
    RemoveChallenger,
    PromoteChallenger,
)


def decider_for(
    policy: Policy = DEFAULT_POLICY, packages: Packages = NO_PACKAGES
) -> Decider[ReplacementState, ReplacementCommand]:
    """The kit's decider with the policy and this decision's packages bound in."""

    def deciding(state: ReplacementState, command: ReplacementCommand, now: datetime) -> Decision:
        return decide(state, command, now, packages=packages, policy=policy)

    return Decider(
        state_type=ReplacementState,
        initial=ReplacementState.initial,
        decide=deciding,
        evolve=evolve,
        commands=COMMANDS,
        folds=FOLDED,
    )


replacements = decider_for()
"""For what needs no packages: folding, the command and event types (every package counts as unknown)."""


def packages_needed(state: ReplacementState, commands: Iterable[ReplacementCommand]) -> frozenset[str]:
    """The catalog entries to load before deciding `commands` (in order) against `state`."""
    ids = {entry.model_package.id for entry in state.history}
    ids |= {challenger.model_package.id for challenger in state.challengers}
    if state.champion is not None:
        ids.add(state.champion.id)
    for held in state.held:  # an approval releases a held command, which may name a package
        named = held.command.get("model_package_id")
        if isinstance(named, str):
            ids.add(named)
    for command in commands:
        named = getattr(command, "model_package_id", None)
        if isinstance(named, str):
            ids.add(named)
    return frozenset(ids)


def approved_command(
    state: ReplacementState, approved: ChangeRequestApproved, registry: MessageRegistry
) -> ReplacementCommand | None:
    """The held command an approval releases (the approval folded already), or None when the request is not
    one of this service's or has run. Its id is derived from the request's; `change_request_id` marks it."""
    held = state.held_command(approved.change_request_id)
    if held is None or held.status is not ChangeRequestStatus.APPROVED or held.ran:
        return None
    command = registry.parse(held.action, held.command_version, held.command)
    if not isinstance(command, HOLDABLE):
        return None
    return command.model_copy(
        update={
            "command_id": derived_id(held.change_request_id, "approved"),
            "change_request_id": held.change_request_id,
        }
    )
