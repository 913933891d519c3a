"""The retraining service's one consumer: its command topic, and the topics whose events keep each
deployment's state current and trigger its runs: the deployment topic (lifecycle, roles, the champion,
the replacement service's answers), the monitoring topic (drift and accuracy reports) and the
training-jobs topic (the trainer's answers)."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from services.retraining.domain.decider import COMMANDS
from services.retraining.domain.evolve import FOLDED
from services.retraining.settings import RetrainingSettings
from shared.contract.catalog import ALL_COMMANDS, ALL_EVENTS, build_registry
from shared.contract.commands.replacement import AddChallenger, ReplaceModel
from shared.contract.events import CommandRejected, TrainingCanceled, TrainingRequested
from shared.contract.messages import MessageRegistry
from shared.contract.topology import Stream
from shared.messaging.consumer import BatchConsumer, BatchHandler
from shared.messaging.dead_letters import DeadLetters
from shared.service.metrics import ServiceMetrics
from shared.service.subscribers import subscribe

SUBSCRIBED = (Stream.RETRAINING_COMMANDS, Stream.DEPLOYMENT, Stream.MONITORING, Stream.TRAINING_JOBS)


def retraining_registry() -> MessageRegistry:
    """Every event and command, since its topics may carry any; fails at start, naming it, if a type it
    decides, folds, publishes (its outbox, CommandRejected) or sends (the replacement asks) is missing."""
    return build_registry(
        *ALL_EVENTS,
        *ALL_COMMANDS,
        required=[
            *COMMANDS,
            *FOLDED,
            CommandRejected,
            TrainingRequested,
            TrainingCanceled,
            ReplaceModel,
            AddChallenger,
        ],
        consumer="retraining",
    )


def subscribe_commands(
    settings: RetrainingSettings,
    broker: KafkaBroker,
    handler: BatchHandler,
    dead_letters: DeadLetters,
    metrics: ServiceMetrics,
) -> BatchConsumer:
    topics = [settings.topics.for_stream(stream) for stream in SUBSCRIBED]
    return subscribe(
        settings,
        broker,
        topics,
        registry=retraining_registry(),
        handler=handler,
        dead_letters=dead_letters,
        metrics=metrics,
    )
