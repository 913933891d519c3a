"""The work a deployment's retraining has to do at a moment, as the commands to send for it. Pure.

The command handler only folds what it hears (health reports, the trainer's answers, the replacement
service's answers); turning that into steps takes a command. The service's scheduler loop sends them:

    for each deployment whose stored `wake_at(state)` <= now:
        for command in due_commands(state, now): publish it (to its stream: command.stream)

- `StartTriggeredRun` for each pending fire, `StartScheduledRun` for a schedule policy that is due
  (the latest due time not yet claimed: missed ones start one run), `AdvanceRun` for a run with an
  answer to act on (or the first queued run when none is in progress), `ExpireTraining` once a run's
  training deadline passed;
- the run's ask to the replacement service (`ReplaceModel` / `AddChallenger` on the replacement command
  stream) until it answers, acting as `RetrainingRunStepChanged.acting_as`.

Each command's id is derived from the work itself, so every instance of the service (and every tick)
sends the same command for the same work; the handlers drop the copies by command id, and decide refuses
what is no longer due. This is how two instances never start the same scheduled run twice. A command
stays listed until the state shows it was decided, so the loop should not resend one it sent moments ago.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime

from services.retraining.domain import triggers
from services.retraining.domain.progress import PACKAGE_UNKNOWN
from services.retraining.domain.rules import DEFAULT_RULES, Rules
from services.retraining.domain.runs import ASKS_REPLACEMENT
from services.retraining.domain.state import RetrainingState, Run
from shared.contract.commands.replacement import AddChallenger, ReplaceModel
from shared.contract.commands.retraining import AdvanceRun, ExpireTraining, StartScheduledRun, StartTriggeredRun
from shared.contract.envelope import derived_id
from shared.contract.events.retraining import RunStep
from shared.contract.events.values import DeploymentStatus, ReplacementReason
from shared.contract.messages import Actor, Command

SERVICE_ACTOR = Actor(user="retraining-service")
"""The actor of the commands the service sends itself."""


@dataclasses.dataclass(frozen=True, slots=True)
class Work:
    at: datetime
    """When it is due (it stays due until done)."""
    command: Command


def due_commands(state: RetrainingState, now: datetime, rules: Rules = DEFAULT_RULES) -> tuple[Command, ...]:
    return tuple(work.command for work in _work(state, now, rules) if work.at <= now)


def wake_at(state: RetrainingState, rules: Rules = DEFAULT_RULES) -> datetime | None:
    """The earliest moment `due_commands` lists something (None: nothing is ever due until an event
    arrives); the store keeps it beside the state so the loop finds the deployments to look at."""
    times = [work.at for work in _work(state, None, rules)]
    return min(times, default=None)


def _work(state: RetrainingState, now: datetime | None, rules: Rules) -> Iterator[Work]:
    if not state.exists:
        return
    d = state.deployment_id
    starts = state.status is not DeploymentStatus.DELETED  # on a deleted deployment, runs started only finish
    for fire in state.pending if starts else ():
        command_id = derived_id(fire.report_event_id, f"start/{fire.policy_id}")
        start = StartTriggeredRun(
            command_id=command_id,
            deployment_id=d,
            actor=SERVICE_ACTOR,
            policy_id=fire.policy_id,
            report_event_id=fire.report_event_id,
        )
        yield Work(fire.at, start)
    for policy in state.policies if starts else ():
        first = triggers.next_scheduled(policy.trigger, policy.clock)
        if first is None:
            continue
        due_at = (triggers.due_scheduled(policy.trigger, policy.clock, now) if now else None) or first
        command_id = derived_id(f"{d}/{policy.id}", f"scheduled/{due_at.isoformat()}")
        scheduled = StartScheduledRun(
            command_id=command_id, deployment_id=d, actor=SERVICE_ACTOR, policy_id=policy.id, due_at=due_at
        )
        yield Work(first, scheduled)
    queued = state.queued
    if queued and state.in_progress is None:
        yield Work(queued[0].started_at, _advance(d, queued[0], "turn"))
    for run in state.runs:
        if run.running:
            yield from _run_work(d, run, rules)


def _run_work(d: str, run: Run, rules: Rules) -> Iterator[Work]:
    if run.step is RunStep.TRAINING:
        if run.answer is not None:
            yield Work(run.answer.at, _advance(d, run, run.answer.event_id))
        elif run.deadline is not None:
            command_id = derived_id(run.id, "expire-training")
            expire = ExpireTraining(command_id=command_id, deployment_id=d, actor=SERVICE_ACTOR, run_id=run.id)
            yield Work(run.deadline, expire)
    elif run.step in ASKS_REPLACEMENT:
        answer = run.action_answer
        if answer is not None:
            retrying = answer.code == PACKAGE_UNKNOWN and run.action_attempt < rules.model_action_attempts
            at = answer.at + rules.model_action_retry_after if retrying else answer.at
            yield Work(at, _advance(d, run, answer.event_id))
        elif run.change_request_id is None and (ask := model_action_command(d, run)) is not None:
            yield Work(run.step_at, ask)


def model_action_command(deployment_id: str, run: Run) -> Command | None:
    """What a run in replacing_model / creating_challenger asks of the replacement service."""
    if run.action_command_id is None or run.model_package_id is None or run.action_actor is None:
        return None
    fields = {
        "command_id": run.action_command_id,
        "deployment_id": deployment_id,
        "actor": run.action_actor,
        "model_package_id": run.model_package_id,
    }
    if run.step is RunStep.REPLACING_MODEL:
        reason = ReplacementReason(run.action_reason or ReplacementReason.OTHER)
        return ReplaceModel(**fields, reason=reason, note=f"retraining run {run.id} of policy {run.policy_id}")
    return AddChallenger(**fields, prediction_environment_id=run.action_environment_id)


def _advance(deployment_id: str, run: Run, awaited: str) -> AdvanceRun:
    """`awaited` names what the run acts on (an answer's event id, or its turn), so each gets its own command."""
    command_id = derived_id(run.id, f"advance/{run.step}/{run.action_attempt}/{awaited}")
    return AdvanceRun(command_id=command_id, deployment_id=deployment_id, actor=SERVICE_ACTOR, run_id=run.id)
