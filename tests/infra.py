"""Where the tests find Kafka and a MongoDB-wire database.

In order: URLs from the environment (LIFECYCLE_TEST_KAFKA, LIFECYCLE_TEST_MONGO_URL); containers
when a Docker engine answers; else the project's own local Kafka, PostgreSQL and FerretDB (on that
PostgreSQL), started here and stopped afterwards (unless they were already running, e.g. under `make run`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class Infra:
    kafka: str
    mongo_url: str


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return False
    return True


def _script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "infra" / f"{name}.sh"), *args], capture_output=True, text=True, check=False
    )


def local_postgres_url(database: str = "ferretdb") -> str | None:
    """URL of a FerretDB-ready database on the project's local PostgreSQL, created if missing (idempotent),
    e.g. for a private FerretDB that a test starts and kills; None when that PostgreSQL is not running."""
    if _script("postgres", "status").returncode != 0:
        return None
    result = _script("postgres", "setup", database)
    if result.returncode != 0:
        raise RuntimeError(f"could not set up PostgreSQL database {database}:\n{result.stdout}\n{result.stderr}")
    return _script("postgres", "url", database).stdout.strip()


@contextlib.contextmanager
def _local() -> Iterator[Infra]:
    started = []

    def start(name: str) -> None:
        result = _script(name, "start")
        if result.returncode != 0:
            raise RuntimeError(f"could not start {name}:\n{result.stdout}\n{result.stderr}")
        started.append(name)

    try:
        for name in ("kafka", "ferretdb"):
            if _script(name, "status").returncode != 0:
                # FerretDB stores its data in the local PostgreSQL: start that first (it waits until ready),
                # and only for a FerretDB started here; a running FerretDB already has its database.
                if name == "ferretdb" and _script("postgres", "status").returncode != 0:
                    start("postgres")
                start(name)
        # Kafka's JVM boots while PostgreSQL and FerretDB start; wait for both only now.
        for name in ("kafka", "ferretdb"):
            waited = _script(name, "wait", "120")
            if waited.returncode != 0:
                raise RuntimeError(f"{name} is not ready:\n{waited.stdout}\n{waited.stderr}")
        kafka_port = os.getenv("LIFECYCLE_KAFKA_PORT", "9092")
        mongo_port = os.getenv("LIFECYCLE_MONGO_PORT", "27017")
        yield Infra(kafka=f"127.0.0.1:{kafka_port}", mongo_url=f"mongodb://127.0.0.1:{mongo_port}")
    finally:
        for name in reversed(started):
            _script(name, "stop")


@contextlib.contextmanager
def _containers() -> Iterator[Infra]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    with KafkaContainer().with_kraft() as kafka, MongoDbContainer("mongo:7.0") as mongo:
        yield Infra(kafka=kafka.get_bootstrap_server(), mongo_url=mongo.get_connection_url())


@contextlib.contextmanager
def provide() -> Iterator[Infra]:
    kafka, mongo = os.getenv("LIFECYCLE_TEST_KAFKA"), os.getenv("LIFECYCLE_TEST_MONGO_URL")
    if kafka and mongo:
        yield Infra(kafka=kafka, mongo_url=mongo)
    elif _docker_answers():
        with _containers() as infra:
            yield infra
    else:
        with _local() as infra:
            yield infra
