"""How `lifecycle` fails: one line on stderr, no traceback, and the exit code of the kind of failure
(2 bad input, 3 not found, 4 unreachable), whatever the command; `--help` on every command and group."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tests.e2e.cli.runner import free_port, lifecycle, listening
from tests.fixtures.inventory import RunningService
from tests.infra import Infra
from tests.support import Publisher, created

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A port that accepts connections and never answers: a host behind a dead proxy or a hung broker."""
    connections: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in connections:
            writer.close()
        server.close()


@pytest.fixture
def valid_file(tmp_path: Path) -> Path:
    file = tmp_path / "created.json"
    file.write_bytes(orjson.dumps({"type": "DeploymentCreated", "data": created("e-1").model_dump(mode="json")}))
    return file


def read_side(valid_file: Path) -> list[list[str]]:
    return [
        ["deployments", "list"],
        ["deployments", "show", "d-1"],
        ["summary"],
        ["history", "d-1"],
        ["at", "d-1", "2h"],
        ["publish", str(valid_file)],
    ]


async def test_with_the_stack_down_every_command_answers_one_line_and_exit_4(
    infra: Infra, namespace: str, valid_file: Path
) -> None:
    closed = f"127.0.0.1:{free_port()}"
    down = {f"LIFECYCLE_CLI_{s}_URL": f"http://{closed}" for s in ("INVENTORY", "ACTIONS", "REPLACEMENT", "RETRAINING")}
    down |= {"LIFECYCLE_KAFKA__BOOTSTRAP_SERVERS": closed, "LIFECYCLE_MONGO__URL": f"mongodb://{closed}"}
    for args in read_side(valid_file):
        result = await lifecycle(infra, namespace, *args, env=down)
        result.failed(4, "does not answer at", closed)


async def test_a_broker_that_never_answers_fails_within_the_connect_timeout(
    infra: Infra, namespace: str, valid_file: Path
) -> None:
    """aiokafka alone would wait 40 s per request on such a host; the CLI gives up after its timeout."""
    async with silent_server() as port:
        env = {"LIFECYCLE_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{port}", "LIFECYCLE_CLI_CONNECT_TIMEOUT_S": "1"}
        for args in (["history", "d-1"], ["publish", str(valid_file)]):
            started = time.monotonic()
            result = await lifecycle(infra, namespace, *args, env=env, timeout=60)
            elapsed = time.monotonic() - started
            result.failed(4, f"the Kafka broker does not answer at 127.0.0.1:{port}")
            # The interpreter and its imports take seconds on a loaded machine; the wait itself is 1 s.
            assert elapsed < 25, f"{args} took {elapsed:.1f} s"


async def test_bad_times_are_refused_with_exit_2(infra: Infra, namespace: str) -> None:
    (await lifecycle(infra, namespace, "at", "d-1", "yesterday")).failed(2, "'yesterday' is not a time", "2h, 3d")
    naive = await lifecycle(infra, namespace, "at", "d-1", "2026-11-01T12:00:00")
    naive.failed(2, "'2026-11-01T12:00:00' has no UTC offset")
    (await lifecycle(infra, namespace, "at", "d-1")).failed(2, "at: Missing argument 'TIME'")
    listing = await lifecycle(infra, namespace, "deployments", "list", "--created-after", "last week")
    listing.failed(2, "--created-after: 'last week' is not a time")


async def test_unknown_deployments_are_not_found_with_exit_3(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    (await lifecycle(infra, namespace, "history", "nope")).failed(3, "deployment nope not found in the log")
    await publisher.emit(namespace, created("someone-else"))  # the topics exist and hold another deployment
    (await lifecycle(infra, namespace, "history", "nope")).failed(3)
    assert (await lifecycle(infra, namespace, "history", "nope")).stderr == (
        "lifecycle: deployment nope not found in the log\n"
    )
    (await lifecycle(infra, namespace, "at", "nope", "1h")).failed(3, "deployment nope not found in the log")
    async with listening(inventory.app) as url:
        shown = await lifecycle(infra, namespace, "deployments", "show", "nope", urls={"inventory": url})
    shown.failed(3, "deployment 'nope' not found")


def command_paths() -> Iterator[list[str]]:
    """Every command and group of the assembled CLI, whoever's module adds it."""
    import typer

    from tools.cli import app as cli

    cli._register()

    def walk(command: object, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(cli.app), [])


def test_help_on_every_command_and_group() -> None:
    from tools.cli import app as cli

    paths = list(command_paths())
    assert ["deployments", "list"] in paths and ["history"] in paths and ["at"] in paths and ["publish"] in paths
    for path in paths:
        result = CliRunner().invoke(cli.app, [*path, "--help"], prog_name="lifecycle")
        assert result.exit_code == 0, f"{path}: {result.output}"
        assert f"Usage: {' '.join(['lifecycle', *path])} " in result.output, result.output


async def test_help_as_an_operator_runs_it(infra: Infra, namespace: str) -> None:
    for path in ([], ["deployments"], ["deployments", "show"], ["history"], ["at"], ["publish"], ["summary"]):
        result = await lifecycle(infra, namespace, *path, "--help")
        assert result.code == 0 and not result.stderr, result.output
        assert f"Usage: {' '.join(['lifecycle', *path])} " in result.stdout, result.output
