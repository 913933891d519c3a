"""The shape of every command side: `decide` what a command means now, `evolve` the state by what happened.

    decide(state, command, now) -> Sequence[Event] | Rejection
    evolve(state, recorded event) -> state

Both are pure: no I/O, no clock (`now` is handed in), no random ids (the handler derives event ids from
the command id). The state is a frozen pydantic model, because the handler stores it as one document
and folds the decided events into it before anything is published (shared.service.commands).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

from shared.contract.messages import Command, Event
from shared.domain.recorded import Recorded

S = TypeVar("S", bound=BaseModel)
C = TypeVar("C", bound=Command)


@dataclasses.dataclass(frozen=True, slots=True)
class Rejection:
    """A command refused: `code` is stable for programs (kebab-case), `reason` is written for the caller."""

    code: str
    reason: str

    def __post_init__(self) -> None:
        if not self.code or not self.reason:
            raise ValueError("a rejection needs both a code and a reason")


Decision = Sequence[Event] | Rejection


@dataclasses.dataclass(frozen=True)
class Decider(Generic[S, C]):
    """One service's command side for one kind of entity (a deployment), as plain functions."""

    state_type: type[S]
    """The frozen model of the state; what the handler stores and loads."""
    initial: Callable[[str], S]
    """The state of an id nothing has happened to yet."""
    decide: Callable[[S, C, datetime], Decision]
    evolve: Callable[[S, Recorded[Event]], S]
    """Events it does not track leave the state as it was."""
    commands: tuple[type[C], ...]
    """The command types `decide` accepts; anything else sent to the service is rejected as unknown."""
    folds: tuple[type[Event], ...] = ()
    """The event types `evolve` reacts to, so the handler need not load a state for any other;
    empty means every type."""

    def __post_init__(self) -> None:
        if not self.state_type.model_config.get("frozen"):
            raise TypeError(f"{self.state_type.__name__} must be frozen: a decider's state is never mutated")

    def handles(self, command: Command) -> bool:
        return isinstance(command, self.commands)

    def reacts_to(self, event: Event) -> bool:
        return not self.folds or isinstance(event, self.folds)

    def fold(self, state: S, events: Iterable[Recorded[Event]]) -> S:
        for event in events:
            state = self.evolve(state, event)
        return state
