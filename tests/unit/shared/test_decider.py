"""The decider shape and its given / when / then kit: each assertion of the kit can fail, with a reason."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from shared.contract.messages import Actor, Command, Event
from shared.contract.topology import Stream
from shared.domain.decider import Decider, Decision, Rejection
from shared.domain.recorded import Recorded
from shared.domain.testing import given


class Ping(Command):
    type_name: ClassVar[str] = "Ping"
    stream: ClassVar[Stream] = Stream.ACTIONS_COMMANDS


class Pinged(Event):
    type_name: ClassVar[str] = "Pinged"
    stream: ClassVar[Stream] = Stream.DEPLOYMENT


class Count(BaseModel):
    model_config = ConfigDict(frozen=True)

    deployment_id: str
    pings: int = 0


def decide(state: Count, command: Ping, now: datetime) -> Decision:
    if state.pings >= 2:
        return Rejection("too-many", f"{state.deployment_id} was pinged {state.pings} times")
    return [Pinged(deployment_id=command.deployment_id)]


def evolve(state: Count, event: Recorded[Event]) -> Count:
    return state.model_copy(update={"pings": state.pings + 1}) if isinstance(event.message, Pinged) else state


counter = Decider(
    state_type=Count, initial=lambda d: Count(deployment_id=d), decide=decide, evolve=evolve, commands=(Ping,)
)


def ping(deployment_id: str = "d-1") -> Ping:
    return Ping(command_id="c-1", deployment_id=deployment_id, actor=Actor(user="alice"))


def test_then_returns_the_state_after_the_new_events() -> None:
    assert given(counter).when(ping()).then(Pinged(deployment_id="d-1")) == Count(deployment_id="d-1", pings=1)


def test_given_history_counts_only_for_its_own_deployment() -> None:
    other = Pinged(deployment_id="d-2")
    given(counter, other, other, other).when(ping("d-1")).then(Pinged(deployment_id="d-1"))


def test_then_rejected_reads_code_and_reason() -> None:
    history = [Pinged(deployment_id="d-1")] * 2
    rejection = given(counter, *history).when(ping()).then_rejected("too-many", reason_contains="2 times")
    assert rejection == Rejection("too-many", "d-1 was pinged 2 times")


def test_each_assertion_fails_when_it_does_not_hold() -> None:
    with pytest.raises(AssertionError, match="got a rejection: too-many"):
        given(counter, Pinged(deployment_id="d-1"), Pinged(deployment_id="d-1")).when(ping()).then(
            Pinged(deployment_id="d-1")
        )
    with pytest.raises(AssertionError, match="expected"):
        given(counter).when(ping()).then()
    with pytest.raises(AssertionError, match="expected rejection"):
        given(counter).when(ping()).then_rejected("too-many")
    two = [Pinged(deployment_id="d-1")] * 2
    with pytest.raises(AssertionError, match="expected code 'other'"):
        given(counter, *two).when(ping()).then_rejected("other")
    with pytest.raises(AssertionError, match="not in"):
        given(counter, *two).when(ping()).then_rejected("too-many", reason_contains="3 times")


def test_a_decide_that_is_not_deterministic_is_caught() -> None:
    calls = itertools.count()

    def flaky(state: Count, command: Ping, now: datetime) -> Decision:
        return [Pinged(deployment_id=f"d-{next(calls)}")]

    with pytest.raises(AssertionError, match="not deterministic"):
        given(Decider(Count, counter.initial, flaky, evolve, (Ping,))).when(ping())


def test_a_mutable_state_is_refused() -> None:
    class Mutable(BaseModel):
        deployment_id: str

    with pytest.raises(TypeError, match="must be frozen"):
        Decider(Mutable, lambda d: Mutable(deployment_id=d), decide, evolve, (Ping,))  # type: ignore[arg-type]


def test_a_rejection_needs_a_code_and_a_reason() -> None:
    with pytest.raises(ValueError, match="code and a reason"):
        Rejection("", "why")
    with pytest.raises(ValueError, match="code and a reason"):
        Rejection("code", "")


def test_handles_only_its_commands() -> None:
    class Other(Command):
        type_name: ClassVar[str] = "Other"
        stream: ClassVar[Stream] = Stream.ACTIONS_COMMANDS

    assert counter.handles(ping())
    assert not counter.handles(Other(command_id="c", deployment_id="d", actor=Actor(user="u")))
