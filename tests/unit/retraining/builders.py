"""Deployments, policies, reports and commands for the retraining domain's tests, and `Live`: the service
as its wiring runs it (the handler folding and deciding, the scheduler loop sending `due_commands`),
without Kafka or a database, so a test can drive a run end to end with a controlled clock.

Every deployment here is `d-1`, created by alice (OWNER) with bob as a second OWNER, serving `pkg-1`
(target churn); uma is a USER, carl a CONSUMER, the group `ml-team` an OWNER.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from services.retraining.domain.decider import decider_for
from services.retraining.domain.due import due_commands
from services.retraining.domain.rules import DEFAULT_RULES, Rules
from services.retraining.domain.state import RetrainingState
from shared.contract import events as ev
from shared.contract.events.retraining import ModelAction, Schedule, Trigger, TriggerType
from shared.contract.events.values import (
    HealthStatus,
    ModelPackageRef,
    Platform,
    PredictionEnvironment,
    PrincipalType,
    ReplacementReason,
    Role,
    TargetType,
)
from shared.contract.messages import Actor, Command, Event
from shared.contract.topology import Stream
from shared.domain.decider import Decider, Decision, Rejection
from shared.domain.recorded import Recorded
from shared.domain.testing import T0, recorded_as_handled

D = "d-1"
OWNER = Actor(user="alice")
USER = Actor(user="uma")
CONSUMER = Actor(user="carl")
STRANGER = Actor(user="eve")
GROUP_OWNER = Actor(user="gina", groups=("ml-team",))
ADMIN = Actor(user="root", admin=True)
CHAMPION = ModelPackageRef(id="pkg-1", name="churn v1", target_name="churn", target_type=TargetType.BINARY)
ENVIRONMENT = PredictionEnvironment(id="env-1", name="prod", platform=Platform.AWS)
DRIFT = Trigger(type=TriggerType.DATA_DRIFT_DECLINE)
ACCURACY = Trigger(type=TriggerType.ACCURACY_DECLINE)
NIGHTLY = Trigger(type=TriggerType.SCHEDULE, schedule=Schedule(minute=(0,), hour=(2,)))
MANUAL = Trigger(type=TriggerType.MANUAL)

_ids = itertools.count()


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def recorded(event: Event, when: datetime, event_id: str | None = None, **facts: Any) -> Recorded[Event]:
    return Recorded(message=event, id=event_id or f"e-{next(_ids)}", time=when, subject=event.subject, **facts)


def created(**changes: Any) -> ev.DeploymentCreated:
    values: dict[str, Any] = {
        "deployment_id": D,
        "label": "Churn",
        "model_package": CHAMPION,
        "prediction_environment": ENVIRONMENT,
        "created_by": "alice",
        "owners": ("bob",),
    }
    return ev.DeploymentCreated(**(values | changes))


def shared(principal: str, role: Role, principal_type: PrincipalType = PrincipalType.USER) -> ev.DeploymentShared:
    return ev.DeploymentShared(deployment_id=D, principal=principal, principal_type=principal_type, role=role)


def settings_changed(user: str = "alice", **changes: Any) -> ev.RetrainingSettingsChanged:
    values: dict[str, Any] = {"deployment_id": D, "retraining_user": user, "dataset_id": "/data/churn.csv"}
    return ev.RetrainingSettingsChanged(**(values | changes))


def policy_created(
    policy_id: str = "p-1", trigger: Trigger = MANUAL, action: ModelAction = ModelAction.MODEL_REPLACEMENT, **more: Any
) -> ev.RetrainingPolicyCreated:
    return ev.RetrainingPolicyCreated(
        deployment_id=D, policy_id=policy_id, name=f"policy {policy_id}", trigger=trigger, model_action=action, **more
    )


def team() -> list[Event]:
    """The deployment, its USER, CONSUMER and OWNER group, and retraining settings (alice retrains)."""
    return [
        created(),
        shared("uma", Role.USER),
        shared("carl", Role.CONSUMER),
        shared("ml-team", Role.OWNER, PrincipalType.GROUP),
        settings_changed(),
    ]


def drift(status: HealthStatus) -> ev.DriftDetected:
    return ev.DriftDetected(deployment_id=D, status=status)


def accuracy(status: HealthStatus) -> ev.AccuracyChanged:
    return ev.AccuracyChanged(deployment_id=D, status=status)


def command(kind: type[Command], actor: Actor = OWNER, command_id: str | None = None, **fields: Any) -> Any:
    return kind(command_id=command_id or f"c-{next(_ids)}", deployment_id=D, actor=actor, **fields)


def replaced(package_id: str) -> ev.ModelReplaced:
    package = CHAMPION.model_copy(update={"id": package_id, "name": package_id})
    return ev.ModelReplaced(deployment_id=D, model_package=package, reason=ReplacementReason.DATA_DRIFT)


class Live:
    """The retraining service with a controlled clock: `hear` folds an event as the handler does,
    `send` decides a command and folds its events (a re-sent command id is dropped, as the handler drops
    it), `tick` is one pass of the scheduler loop: it sends every due retraining command until nothing
    new is due and returns the commands due for other services (the replacement service's)."""

    def __init__(self, *history: Event, rules: Rules = DEFAULT_RULES, when: datetime = T0) -> None:
        self.decider: Decider[RetrainingState, Any] = decider_for(rules)
        self.rules = rules
        self.state = RetrainingState.initial(D)
        self.decided: dict[str, Decision] = {}
        self.published: list[Event] = []
        self.log: list[Recorded[Event]] = []
        """Everything folded, in order: what a replay of the service's topics would fold."""
        for event in history:
            self.hear(event, when)

    def hear(self, event: Event, when: datetime, event_id: str | None = None, **facts: Any) -> Recorded[Event]:
        record = recorded(event, when, event_id, **facts)
        self.log.append(record)
        self.state = self.decider.evolve(self.state, record)
        return record

    def send(self, cmd: Command, now: datetime) -> Decision:
        if cmd.command_id in self.decided:
            return self.decided[cmd.command_id]
        decision = self.decider.decide(self.state, cmd, now)
        self.decided[cmd.command_id] = decision
        if not isinstance(decision, Rejection):
            self.published += decision
            records = recorded_as_handled(cmd, list(decision), now)
            self.log += records
            self.state = self.decider.fold(self.state, records)
        return decision

    def ok(self, cmd: Command, now: datetime) -> list[Event]:
        decision = self.send(cmd, now)
        assert not isinstance(decision, Rejection), f"rejected: {decision.code}: {decision.reason}"
        return list(decision)

    def tick(self, now: datetime) -> list[Command]:
        for _ in range(20):
            mine = [c for c in due_commands(self.state, now, self.rules) if c.stream is Stream.RETRAINING_COMMANDS]
            fresh = [c for c in mine if c.command_id not in self.decided]
            if not fresh:
                break
            for cmd in fresh:
                self.send(cmd, now)
        return [c for c in due_commands(self.state, now, self.rules) if c.stream is not Stream.RETRAINING_COMMANDS]

    def of_type(self, kind: type[Event]) -> list[Any]:
        return [e for e in self.published if isinstance(e, kind)]


def started_runs(live: Live) -> list[ev.RetrainingRunStarted]:
    runs: list[ev.RetrainingRunStarted] = live.of_type(ev.RetrainingRunStarted)
    return runs
