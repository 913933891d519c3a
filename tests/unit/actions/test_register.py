"""RegisterDeployment, decided against every state a deployment id can be in (given / when / then)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.actions.domain.decider import deployments
from services.actions.domain.state import DeploymentState, Grant
from shared.contract import events as ev
from shared.contract.commands.actions import RegisterDeployment
from shared.contract.events.deployment import DeploymentEvent
from shared.contract.events.values import DeploymentStatus, Importance, Role, Tag
from shared.contract.messages import Actor
from shared.domain.decider import Rejection
from shared.domain.testing import given, recorded_as_handled
from tests.unit.actions.builders import ENVIRONMENT, PACKAGE, created, kinds

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def register(
    deployment_id: str = "d-1", command_id: str = "c-1", user: str = "alice", **over: Any
) -> RegisterDeployment:
    values: dict[str, Any] = {
        "command_id": command_id,
        "deployment_id": deployment_id,
        "actor": Actor(user=user, groups=("ml-team",)),
        "label": "Churn",
        "description": "scores customers",
        "importance": Importance.HIGH,
        "model_package": PACKAGE,
        "prediction_environment": ENVIRONMENT,
        "owners": ("bob", "alice", "bob"),
        "tags": (Tag(name="team", value="growth"),),
    }
    return RegisterDeployment(**(values | over))


def test_a_free_id_is_registered_active_created_by_the_actor_now() -> None:
    state = (
        given(deployments)
        .when(register(), now=NOW)
        .then(
            ev.DeploymentCreated(
                deployment_id="d-1",
                label="Churn",
                description="scores customers",
                importance=Importance.HIGH,
                status=DeploymentStatus.ACTIVE,
                model_package=PACKAGE,
                prediction_environment=ENVIRONMENT,
                created_by="alice",
                owners=("bob",),  # the actor is the creator (an OWNER already); repeats collapse
                tags=(Tag(name="team", value="growth"),),
                created_at=NOW,
            )
        )
    )
    assert state == DeploymentState(
        deployment_id="d-1",
        status=DeploymentStatus.ACTIVE,
        label="Churn",
        description="scores customers",
        tags=(Tag(name="team", value="growth"),),
        importance=Importance.HIGH,
        created_by="alice",
        created_at=NOW,
        grants=(Grant(principal="alice", role=Role.OWNER), Grant(principal="bob", role=Role.OWNER)),
    )


def test_an_id_a_serving_platform_created_is_refused_with_its_creator() -> None:
    given(deployments, created(created_by="platform-bot")).when(register()).then_rejected(
        "already-exists", reason_contains="created by platform-bot"
    )


def test_the_second_registration_of_an_id_sees_the_first() -> None:
    first = register(command_id="c-1", user="alice")
    decision = given(deployments).when(first, now=NOW).decision
    assert not isinstance(decision, Rejection)
    history = recorded_as_handled(first, list(decision), NOW)
    given(deployments, *history).when(register(command_id="c-2", user="bob")).then_rejected(
        "already-exists", reason_contains="created by alice"
    )


@pytest.mark.parametrize(
    "afterwards",
    [ev.DeploymentDeactivated, ev.DeploymentErrored, ev.DeploymentDeleted, ev.DeploymentErased],
)
def test_an_id_is_never_free_again_whatever_became_of_its_deployment(afterwards: type[DeploymentEvent]) -> None:
    deleted = [ev.DeploymentDeleted(deployment_id="d-1")] if afterwards is ev.DeploymentErased else []
    given(deployments, created(), *deleted, afterwards(deployment_id="d-1")).when(register()).then_rejected(
        "already-exists"
    )


def test_another_id_is_not_affected() -> None:
    decision = given(deployments, created("d-other")).when(register("d-1")).decision
    assert kinds(decision) == [ev.DeploymentCreated]
