"""Prometheus metrics, one registry per service instance so several can live in one process (tests)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.service = service
        self.events_applied = Counter(
            "lifecycle_events_applied",
            "Valid events handed to the service",
            ["type"],
            registry=self.registry,
        )
        self.events_dead_lettered = Counter(
            "lifecycle_events_dead_lettered",
            "Records sent to the dead-letter topic",
            ["code"],
            registry=self.registry,
        )
        self.events_skipped = Counter(
            "lifecycle_events_skipped",
            "Redelivered events recognised and not applied again",
            registry=self.registry,
        )
        self.batch_failures = Counter(
            "lifecycle_batch_failures",
            "Handler calls that failed: transient ones are retried, deterministic ones isolated",
            registry=self.registry,
        )
        self.handler_seconds = Histogram(
            "lifecycle_handler_seconds",
            "Time to apply one batch",
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.lag_seconds = Gauge(
            "lifecycle_consumer_lag_seconds",
            "Age of the oldest record of the batch being handled (kept current while it is retried)",
            registry=self.registry,
        )
        self.consumer_stalled = Gauge(
            "lifecycle_consumer_stalled",
            "1 while a consumer has retried transient failures for longer than its stall threshold",
            registry=self.registry,
        )
        self.records_misrouted = Counter(
            "lifecycle_records_misrouted",
            "Records read from another partition than murmur2 of their key gives, or without a key",
            ["reason", "topic"],
            registry=self.registry,
        )
