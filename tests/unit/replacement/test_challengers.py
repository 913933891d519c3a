"""Challengers: at most five, each a distinct package, never the champion; remove; promote."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.replacement.domain.state import ModelAction
from shared.contract import events as ev
from shared.contract.commands.replacement import RemoveChallenger
from shared.contract.envelope import derived_id
from shared.contract.events.values import ReplacementReason, Role, TargetType, ValidationStatus
from shared.contract.messages import Actor, Event
from shared.domain.testing import given
from tests.unit.replacement.builders import (
    CHAMPION,
    OWNER,
    D,
    accepted,
    add,
    challenger_added,
    created,
    decided,
    decider,
    promote,
    remove,
    spec,
)

CANDIDATES = [spec(f"pkg-{n}") for n in range(2, 9)]
SECOND = CANDIDATES[0]


def with_challengers(count: int) -> list[Event]:
    return [created(), *(challenger_added(f"ch-{n}", CANDIDATES[n]) for n in range(count))]


def test_a_compatible_package_becomes_a_challenger_with_an_id_derived_from_the_command() -> None:
    when = given(decider(SECOND), created()).when(add("pkg-2"))
    (event,) = decided(when)
    assert isinstance(event, ev.ChallengerAdded)
    assert (event.challenger_id, event.model_package, event.actor) == (
        derived_id("c-add", "challenger"),
        SECOND.ref,
        "alice",
    )
    assert event.validation_status is ValidationStatus.PASSING
    (challenger,) = accepted(when).challengers
    assert (challenger.id, challenger.model_package.id) == (event.challenger_id, "pkg-2")


def test_never_the_champion_nor_the_same_package_twice() -> None:
    given(decider(), created()).when(add("pkg-1")).then_rejected("checks-failing", reason_contains="current model")
    history = given(decider(*CANDIDATES), *with_challengers(1))
    history.when(add("pkg-2")).then_rejected("checks-failing", reason_contains="pkg-2 is challenger ch-0")


def test_at_most_five_challengers() -> None:
    (fifth,) = decided(given(decider(*CANDIDATES), *with_challengers(4)).when(add("pkg-7")))
    assert isinstance(fifth, ev.ChallengerAdded)
    full = given(decider(*CANDIDATES), *with_challengers(5)).when(add("pkg-8"))
    full.then_rejected("challenger-limit", reason_contains="has 5 challengers already (ch-0, ch-1, ch-2, ch-3, ch-4)")


def test_an_incompatible_or_unknown_package_or_a_non_owner_cannot_add() -> None:
    regression = spec("pkg-r", target_type=TargetType.REGRESSION)
    given(decider(regression), created()).when(add("pkg-r")).then_rejected(
        "checks-failing", reason_contains="target_type"
    )
    given(decider(), created()).when(add("pkg-2")).then_rejected("package-unknown")
    shared = ev.DeploymentShared(deployment_id=D, principal="carol", role=Role.USER)
    given(decider(SECOND), created(), shared).when(add("pkg-2", actor=Actor(user="carol"))).then_rejected(
        "forbidden", reason_contains="adding a challenger needs OWNER"
    )


def test_remove_by_challenger_id_or_by_package() -> None:
    history = given(decider(*CANDIDATES), *with_challengers(2))
    by_id = history.when(remove(challenger_id="ch-1")).then(
        ev.ChallengerRemoved(deployment_id=D, challenger_id="ch-1", model_package_id="pkg-3", actor="alice")
    )
    assert [c.id for c in by_id.challengers] == ["ch-0"]
    by_package = history.when(remove(model_package_id="pkg-2")).then(
        ev.ChallengerRemoved(deployment_id=D, challenger_id="ch-0", model_package_id="pkg-2", actor="alice")
    )
    assert [c.id for c in by_package.challengers] == ["ch-1"]


def test_remove_needs_an_existing_challenger_an_owner_and_a_live_deployment() -> None:
    history = [*with_challengers(1)]
    given(decider(), *history).when(remove(challenger_id="ch-9")).then_rejected("challenger-unknown")
    given(decider(), *history).when(remove(model_package_id="pkg-9")).then_rejected("challenger-unknown")
    given(decider(), *history).when(remove(Actor(user="eve"), challenger_id="ch-0")).then_rejected("forbidden")
    deleted = [*history, ev.DeploymentDeleted(deployment_id=D)]
    given(decider(), *deleted).when(remove(challenger_id="ch-0")).then_rejected("deployment-deleted")


def test_a_challenger_is_named_by_id_or_by_package_exactly() -> None:
    with pytest.raises(ValidationError, match="not both nor neither"):
        RemoveChallenger(command_id="c", deployment_id=D, actor=OWNER)
    with pytest.raises(ValidationError, match="not both nor neither"):
        RemoveChallenger(command_id="c", deployment_id=D, actor=OWNER, challenger_id="ch-0", model_package_id="pkg-2")


def test_promote_replaces_the_champion_by_the_challengers_package_and_it_leaves_the_challengers() -> None:
    when = given(decider(*CANDIDATES), *with_challengers(2)).when(promote("ch-1"))
    replaced, removed = decided(when)
    assert isinstance(replaced, ev.ModelReplaced)
    assert (replaced.model_package, replaced.previous_model_package_id, replaced.challenger_id) == (
        CANDIDATES[1].ref,
        "pkg-1",
        "ch-1",
    )
    assert (replaced.reason, replaced.checks["not_current_model"].status) == (
        ReplacementReason.ACCURACY,
        ValidationStatus.PASSING,
    )
    assert removed == ev.ChallengerRemoved(
        deployment_id=D, challenger_id="ch-1", model_package_id="pkg-3", actor="alice", promoted=True
    )
    state = accepted(when)
    assert state.champion == CANDIDATES[1].ref
    assert [c.id for c in state.challengers] == ["ch-0"]
    assert state.history[-1].action is ModelAction.PROMOTED
    assert state.history[-1].challenger_id == "ch-1"


def test_promote_refuses_an_unknown_challenger_and_a_failing_one_stays_a_challenger() -> None:
    given(decider(*CANDIDATES), *with_challengers(1)).when(promote("ch-9")).then_rejected("challenger-unknown")
    not_ready = spec("pkg-2", ready=False)
    when = given(decider(not_ready), *with_challengers(1)).when(promote("ch-0"))
    (event,) = decided(when)
    assert isinstance(event, ev.ModelReplacementRejected)
    assert (event.challenger_id, event.checks["package_ready"].status) == ("ch-0", ValidationStatus.FAILING)
    state = accepted(when)
    assert (state.champion, [c.id for c in state.challengers]) == (CHAMPION.ref, ["ch-0"])
