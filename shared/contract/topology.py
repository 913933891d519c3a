"""Where messages travel: the logical streams and the topic names derived from one namespace.

Every topic is keyed by the deployment id, hashed with murmur2 (the Java client's and aiokafka's
default partitioner); librdkafka clients (kcat, confluent-kafka) must set `partitioner=murmur2_random`.
Consumers do not rely on it: records on another partition, or without a key, are detected, counted
and still folded correctly.
"""

from __future__ import annotations

import enum


class Stream(enum.StrEnum):
    """The logical stream a message belongs to; settings map each stream to a topic name."""

    DEPLOYMENT = "deployment"
    MONITORING = "monitoring"
    REGISTRY = "registry"
    ACTIONS_COMMANDS = "actions-commands"
    REPLACEMENT_COMMANDS = "replacement-commands"
    RETRAINING_COMMANDS = "retraining-commands"
    TRAINING_JOBS = "training-jobs"


class Topics:
    """Topic names, all derived from one namespace so a test or a tenant can have its own set."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def for_stream(self, stream: Stream) -> str:
        return f"{self.namespace}.{stream.value}"

    @property
    def deployment_events(self) -> str:
        return self.for_stream(Stream.DEPLOYMENT)

    @property
    def monitoring_events(self) -> str:
        return self.for_stream(Stream.MONITORING)

    @property
    def registry_events(self) -> str:
        return self.for_stream(Stream.REGISTRY)

    @property
    def dead_letters(self) -> str:
        return f"{self.namespace}.dead-letters"

    def all(self) -> list[str]:
        return [*(self.for_stream(stream) for stream in Stream), self.dead_letters]
