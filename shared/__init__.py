"""The project's common library: event contract, Kafka and MongoDB plumbing, settings and logging."""
