"""What the kit's command handler needs beyond the pure domain to decide replacement commands:

- the decider for a deployment's batch, with the catalog entries it may need loaded first
  (`decider.packages_needed`, one read by `_id`s; none when the batch holds nothing to decide);
- the follow-ups: a `ChangeRequestApproved` for a request this service opened releases the held
  command (`decider.approved_command`, its id derived from the request's, so it runs once), decided
  right after the approval in the same document write;
- the refusal that `ModelReplacementRejected` records (failing checks), so `GET /commands/{id}`
  answers `rejected` with `checks-failing` (or `forbidden` when the permission check failed) and the
  failing checks, rather than `completed`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from services.replacement.adapters.store import PackageCatalog
from services.replacement.domain import codes
from services.replacement.domain.decider import approved_command, decider_for, packages_needed, replacements
from services.replacement.domain.policy import Policy
from services.replacement.domain.state import ReplacementState
from shared.contract import events as ev
from shared.contract.commands.replacement import ReplacementCommand
from shared.contract.events.values import ValidationStatus
from shared.contract.messages import Command, Event, Message, MessageRegistry
from shared.domain.decider import Decider, Rejection
from shared.domain.recorded import Recorded

ReplacementDecider = Decider[ReplacementState, ReplacementCommand]


class BatchDecider:
    """Builds the decider of one deployment's batch: the policy and the packages it may need bound in."""

    def __init__(self, catalog: PackageCatalog, policy: Policy) -> None:
        self.catalog = catalog
        self.policy = policy

    async def __call__(self, state: ReplacementState, messages: Sequence[Message]) -> ReplacementDecider:
        commands = [m for m in messages if isinstance(m, ReplacementCommand)]
        if not commands and not any(isinstance(m, ev.ChangeRequestApproved) for m in messages):
            return replacements  # only events to fold: nothing is decided, nothing to read
        return await self.for_commands(state, commands)

    async def for_commands(self, state: ReplacementState, commands: Sequence[ReplacementCommand]) -> ReplacementDecider:
        packages = await self.catalog.packages(packages_needed(state, commands))
        return decider_for(self.policy, packages)


def approved_commands(registry: MessageRegistry) -> Callable[[ReplacementState, Recorded[Event]], Sequence[Command]]:
    """The kit's `follow_ups`: the held command an approval releases, if the request is this service's."""

    def released(state: ReplacementState, event: Recorded[Event]) -> Sequence[Command]:
        if not isinstance(event.message, ev.ChangeRequestApproved):
            return ()
        command = approved_command(state, event.message, registry)
        return () if command is None else (command,)

    return released


def refusal_in(events: Sequence[Event]) -> Rejection | None:
    """The kit's `refusal_in`: a change of champion refused by its checks."""
    rejected = next((e for e in events if isinstance(e, ev.ModelReplacementRejected)), None)
    if rejected is None:
        return None
    failing = [name for name, check in rejected.checks.items() if check.status is ValidationStatus.FAILING]
    return Rejection(codes.FORBIDDEN if "permission" in failing else codes.CHECKS_FAILING, rejected.reason)
