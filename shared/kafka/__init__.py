"""Kafka adapters: the publisher, the batch consumer path with its dead-letter topic, topic admin."""
