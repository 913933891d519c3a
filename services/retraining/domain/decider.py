"""The retraining service's decider, and what its wiring must do beyond the kit's handler.

`decider_for(rules)` binds the limits (built by the composition root from its settings); `retraining` is
the decider under the default rules. The kit's `CommandHandler` runs it unchanged, subscribed to:
- the retraining command stream (people's commands and the service's own internal ones);
- the deployment stream (lifecycle and roles; the replacement service's answers to a run's asks);
- the monitoring stream (DriftDetected, AccuracyChanged: the triggers, folded by event time);
- the training-jobs stream (the trainer's TrainingSucceeded / TrainingFailed).

Beside it, one scheduler loop per instance (see `due`): store `wake_at(state)` beside each document,
and every tick publish `due_commands(state, now)` of each deployment whose `wake_at` has come. That is
how folded facts become steps (fires become runs, answers move runs on, deadlines fail them), how
scheduled runs start, and how a run's ReplaceModel / AddChallenger reaches the replacement service. The
outbox publishes the decided events, TrainingRequested / TrainingCanceled to the training-jobs stream
(by each message's stream). The backtest (`backtest.backtest`) is a pure function the HTTP route calls
with the deployment's recorded DriftDetected / AccuracyChanged.
"""

from __future__ import annotations

from datetime import datetime

from services.retraining.domain.decide import decide
from services.retraining.domain.evolve import FOLDED, evolve
from services.retraining.domain.rules import DEFAULT_RULES, Rules
from services.retraining.domain.state import RetrainingState
from shared.contract.commands.retraining import (
    AdvanceRun,
    CancelRetrainingRun,
    ChangeRetrainingSettings,
    CreateRetrainingPolicy,
    DeleteRetrainingPolicy,
    ExpireTraining,
    RetrainingCommand,
    RunRetrainingPolicy,
    StartScheduledRun,
    StartTriggeredRun,
    UpdateRetrainingPolicy,
)
from shared.domain.decider import Decider, Decision

COMMANDS: tuple[type[RetrainingCommand], ...] = (
    ChangeRetrainingSettings,
    CreateRetrainingPolicy,
    UpdateRetrainingPolicy,
    DeleteRetrainingPolicy,
    RunRetrainingPolicy,
    CancelRetrainingRun,
    StartScheduledRun,
    StartTriggeredRun,
    AdvanceRun,
    ExpireTraining,
)


def decider_for(rules: Rules = DEFAULT_RULES) -> Decider[RetrainingState, RetrainingCommand]:
    def deciding(state: RetrainingState, command: RetrainingCommand, now: datetime) -> Decision:
        return decide(state, command, now, rules=rules)

    return Decider(
        state_type=RetrainingState,
        initial=RetrainingState.initial,
        decide=deciding,
        evolve=evolve,
        commands=COMMANDS,
        folds=FOLDED,
    )


retraining = decider_for()
