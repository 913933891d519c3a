"""Running the `lifecycle` CLI as an operator does: `python -m tools.cli` in a subprocess, with an environment
that points it at one test's topic namespace, databases and service URLs.

    result = await lifecycle(infra, namespace, "deployments", "list", urls={"inventory": url})
    assert result.code == 0, result.output
    rows = result.json()

Services under test run in-process (ASGI); `listening(app)` also serves one on a free local port so that the
subprocess can reach it. Its lifespan is not run again: the service's fixture has started it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import orjson

from tests.fixtures.infra import listening
from tests.infra import ROOT, Infra
from tests.support import free_port

__all__ = ["Result", "free_port", "lifecycle", "listening", "only"]

SERVICES = ("inventory", "actions", "replacement", "retraining")


@dataclasses.dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """Both streams, for assertion messages."""
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"

    def json(self) -> Any:
        assert self.code == 0, self.output
        return orjson.loads(self.stdout)

    def failed(self, code: int, *fragments: str) -> None:
        """The CLI failed with `code`, told in one line on stderr holding each fragment (no traceback)."""
        assert self.code == code, self.output
        assert self.stderr.count("\n") == 1 and self.stderr.startswith("lifecycle: "), self.output
        assert all(fragment in self.stderr for fragment in fragments), self.output


COMMAND_SERVICES = ("actions", "replacement", "retraining")


def only(urls: Mapping[str, str]) -> dict[str, str]:
    """`urls`, and a closed port for every other command service: a command must not reach one by accident."""
    closed = f"http://127.0.0.1:{free_port()}"
    return {**dict.fromkeys(COMMAND_SERVICES, closed), **urls}


def cli_environment(
    infra: Infra,
    namespace: str,
    *,
    urls: Mapping[str, str] | None = None,
    databases: Mapping[str, str] | None = None,
    token: str | None = "admin-token",
) -> dict[str, str]:
    """The variables the CLI reads: the broker and topic namespace, the database server, each service's
    database (`databases={"inventory": "inv_t1234"}`: a replay needs it) and URL, and the bearer token
    (the service fixtures accept `admin-token`)."""
    env = {
        "LIFECYCLE_KAFKA__BOOTSTRAP_SERVERS": infra.kafka,
        "LIFECYCLE_KAFKA__TOPIC_NAMESPACE": namespace,
        "LIFECYCLE_MONGO__URL": infra.mongo_url,
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    for service, url in (urls or {}).items():
        assert service in SERVICES, service
        env[f"LIFECYCLE_CLI_{service.upper()}_URL"] = url
    for service, database in (databases or {}).items():
        env[f"{service.upper()}_MONGO__DATABASE"] = database
    if token is not None:
        env["LIFECYCLE_CLI_TOKEN"] = token
    return env


def run_lifecycle(
    *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None, timeout: float = 90
) -> Result:
    """The CLI in a subprocess with `env` over this process's environment (stripped of other `LIFECYCLE_*`,
    `*_URL` and `*_MONGO__*` settings, so a developer's shell cannot leak into a test)."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("LIFECYCLE_")
        and not any(name.startswith(f"{s.upper()}_") for s in (*SERVICES, "trainer"))
    }
    completed = subprocess.run(
        [sys.executable, "-m", "tools.cli", *args],
        cwd=ROOT,
        env={**inherited, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


async def lifecycle(
    infra: Infra,
    namespace: str,
    *args: str,
    urls: Mapping[str, str] | None = None,
    databases: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 90,  # noqa: ASYNC109 (the subprocess's own timeout, not this coroutine's)
) -> Result:
    """`lifecycle ARGS...` against the test's namespace; runs in a thread so that the services under test,
    on this event loop, keep serving meanwhile. `env` adds or overrides variables."""
    full = {**cli_environment(infra, namespace, urls=urls, databases=databases), **(env or {})}
    return await asyncio.to_thread(run_lifecycle, *args, env=full, stdin=stdin, timeout=timeout)
