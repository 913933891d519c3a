"""Given / when / then for deciders: given past events, when a command, then these events or this rejection.

    given(decider, created("d-1")).when(register("d-1")).then_rejected("already-exists")
    state = given(decider).when(register("d-1"), now=T).then(DeploymentCreated(...))

History may mix bare events (recorded one second apart from `T0`, by "tester") and `Recorded` ones
when the test cares about ids, times or actors. `when` also checks that `decide` is deterministic.
`then` returns the state after the new events, folded as the command handler folds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from pydantic import BaseModel

from shared.contract.envelope import derived_id
from shared.contract.messages import Command, Event
from shared.domain.decider import C, Decider, Decision, Rejection
from shared.domain.recorded import Recorded

S = TypeVar("S", bound=BaseModel)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
"""When the given history starts; `when` happens an hour later unless told otherwise."""


def given(decider: Decider[S, C], *history: Event | Recorded[Event]) -> Given[S, C]:
    return Given(decider, [_recorded(item, index) for index, item in enumerate(history)])


class Given(Generic[S, C]):
    def __init__(self, decider: Decider[S, C], history: Sequence[Recorded[Event]]) -> None:
        self.decider = decider
        self.history = list(history)

    def state(self, deployment_id: str) -> S:
        """The deployment's state after its own events of the history (as its document would hold it)."""
        own = [event for event in self.history if event.subject == deployment_id]
        return self.decider.fold(self.decider.initial(deployment_id), own)

    def when(self, command: C, *, now: datetime = T0 + timedelta(hours=1)) -> When[S, C]:
        before = self.state(command.deployment_id)
        decision = self.decider.decide(before, command, now)
        again = self.decider.decide(before, command, now)
        assert _same(decision, again), f"decide is not deterministic: {decision!r} then {again!r}"
        return When(self.decider, before, command, now, decision)


class When(Generic[S, C]):
    def __init__(self, decider: Decider[S, C], before: S, command: C, now: datetime, decision: Decision) -> None:
        self.decider = decider
        self.before = before
        self.command = command
        self.now = now
        self.decision = decision

    def then(self, *expected: Event) -> S:
        """Assert the command ends in exactly `expected`, in order; return the state after them."""
        assert not isinstance(self.decision, Rejection), (
            f"expected {_names(expected)}, got a rejection: {self.decision.code}: {self.decision.reason}"
        )
        actual = list(self.decision)
        assert actual == list(expected), f"expected {list(expected)!r}\n     got {actual!r}"
        return self.decider.fold(self.before, recorded_as_handled(self.command, actual, self.now))

    def then_rejected(self, code: str, *, reason_contains: str = "") -> Rejection:
        """Assert the command is refused with `code` (and a reason mentioning `reason_contains`)."""
        assert isinstance(self.decision, Rejection), f"expected rejection {code!r}, got {list(self.decision)!r}"
        assert self.decision.code == code, f"expected code {code!r}, got {self.decision.code!r}: {self.decision.reason}"
        assert reason_contains in self.decision.reason, f"{reason_contains!r} not in {self.decision.reason!r}"
        return self.decision


def recorded_as_handled(command: Command, events: Sequence[Event], now: datetime) -> list[Recorded[Event]]:
    """The decided events as the command handler records them: ids derived from the command id, the
    decision time, the command's actor, caused by the command."""
    return [
        Recorded(
            message=event,
            id=derived_id(command.command_id, str(index)),
            time=now,
            subject=event.subject,
            actor=command.actor.user,
            correlation_id=command.command_id,
            causation_id=command.command_id,
        )
        for index, event in enumerate(events)
    ]


def _recorded(item: Event | Recorded[Event], index: int) -> Recorded[Event]:
    if isinstance(item, Recorded):
        return item
    return Recorded(
        message=item, id=f"given-{index}", time=T0 + timedelta(seconds=index), subject=item.subject, actor="tester"
    )


def _same(first: Decision, second: Decision) -> bool:
    if isinstance(first, Rejection) or isinstance(second, Rejection):
        return first == second
    return list(first) == list(second)


def _names(events: Sequence[Event]) -> str:
    return ", ".join(type(event).__name__ for event in events) or "no events"
