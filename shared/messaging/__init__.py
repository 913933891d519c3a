"""Kafka: the consumer path, the publisher, log readers and replay."""
