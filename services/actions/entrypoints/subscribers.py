"""The actions service's one consumer: its command topic, and the deployment topic that keeps its state
current (upstream `DeploymentCreated`, and everything else its decider folds)."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from services.actions.domain.decider import COMMANDS
from services.actions.domain.evolve import FOLDED
from services.actions.settings import ActionsSettings
from shared.contract.catalog import ALL_COMMANDS, ALL_EVENTS, build_registry
from shared.contract.events import CommandRejected
from shared.contract.messages import MessageRegistry
from shared.contract.topology import Stream
from shared.messaging.consumer import BatchConsumer, BatchHandler
from shared.messaging.dead_letters import DeadLetters
from shared.service.metrics import ServiceMetrics
from shared.service.subscribers import subscribe


def actions_registry() -> MessageRegistry:
    """Every event and command, since its topics may carry any; fails at start, naming it, if a type
    it decides, folds or publishes (CommandRejected) is missing."""
    return build_registry(
        *ALL_EVENTS, *ALL_COMMANDS, required=[*COMMANDS, *FOLDED, CommandRejected], consumer="actions"
    )


def subscribe_commands(
    settings: ActionsSettings,
    broker: KafkaBroker,
    handler: BatchHandler,
    dead_letters: DeadLetters,
    metrics: ServiceMetrics,
) -> BatchConsumer:
    topics = [settings.topics.for_stream(Stream.ACTIONS_COMMANDS), settings.topics.deployment_events]
    return subscribe(
        settings,
        broker,
        topics,
        registry=actions_registry(),
        handler=handler,
        dead_letters=dead_letters,
        metrics=metrics,
    )
