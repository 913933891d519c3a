"""Deployments, people and commands for the actions domain tests.

The cast: olivia created the deployment (OWNER); owen is a second OWNER; uma has USER, connie CONSUMER;
gina owns it through her group `ml-owners`; adam is an admin with no grant; nina has no role at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from services.actions.domain.state import DeploymentState
from shared.contract import events as ev
from shared.contract.commands import actions as cmd
from shared.contract.events.values import (
    Importance,
    ModelPackageRef,
    Platform,
    PredictionEnvironment,
    PrincipalType,
    Role,
    TargetType,
)
from shared.contract.messages import Actor, Event
from shared.domain.decider import Decider, Decision, Rejection
from shared.domain.recorded import Recorded
from shared.domain.testing import T0, given, recorded_as_handled

DEPLOYMENT = "d-1"
NOW = T0 + timedelta(hours=1)
"""When `given(...).when(...)` decides, unless told otherwise."""
PACKAGE = ModelPackageRef(id="pkg-1", name="churn v1", target_name="churn", target_type=TargetType.BINARY)
ENVIRONMENT = PredictionEnvironment(id="env-1", name="prod", platform=Platform.AWS)

OLIVIA = Actor(user="olivia")
OWEN = Actor(user="owen")
UMA = Actor(user="uma")
CONNIE = Actor(user="connie")
GINA = Actor(user="gina", groups=("analysts", "ml-owners"))
ADAM = Actor(user="adam", admin=True)
NINA = Actor(user="nina")

_ids = itertools.count(1)


def created(deployment_id: str = DEPLOYMENT, **over: Any) -> ev.DeploymentCreated:
    values: dict[str, Any] = {
        "deployment_id": deployment_id,
        "label": "Churn",
        "description": "scores customers",
        "importance": Importance.MODERATE,
        "model_package": PACKAGE,
        "prediction_environment": ENVIRONMENT,
        "created_by": "olivia",
    }
    return ev.DeploymentCreated(**(values | over))


def shared(principal: str, role: Role, principal_type: PrincipalType = PrincipalType.USER) -> ev.DeploymentShared:
    return ev.DeploymentShared(deployment_id=DEPLOYMENT, principal=principal, principal_type=principal_type, role=role)


def team(importance: Importance = Importance.MODERATE, **over: Any) -> list[Event]:
    """The deployment with the whole cast's grants (see the module docstring)."""
    return [
        created(importance=importance, owners=("owen",), **over),
        shared("uma", Role.USER),
        shared("connie", Role.CONSUMER),
        shared("ml-owners", Role.OWNER, PrincipalType.GROUP),
    ]


C = TypeVar("C", bound=cmd.ActionsCommand)


def command(model: type[C], actor: Actor = OLIVIA, command_id: str | None = None, **fields: Any) -> C:
    """A command with a fresh id (or `command_id`) on the test deployment."""
    return model(
        command_id=command_id or f"c-{next(_ids)}",
        deployment_id=fields.pop("deployment_id", DEPLOYMENT),
        actor=actor,
        **fields,
    )


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def aware(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def decided(
    decider: Decider[DeploymentState, cmd.ActionsCommand],
    history: Sequence[Event | Recorded[Event]],
    *steps: tuple[cmd.ActionsCommand, datetime],
) -> list[Event | Recorded[Event]]:
    """`history` followed by the events each (command, now) step ends in, recorded as the handler would;
    a step that is refused fails the test."""
    result = list(history)
    for step, now in steps:
        decision = given(decider, *result).when(step, now=now).decision
        assert not isinstance(decision, Rejection), f"{step.type_name} refused: {decision.code}: {decision.reason}"
        result += recorded_as_handled(step, list(decision), now)
    return result


def kinds(decision: Decision) -> list[type[Event]] | str:
    """The types of the events decided, or the code of the refusal."""
    return decision.code if isinstance(decision, Rejection) else [type(event) for event in decision]
