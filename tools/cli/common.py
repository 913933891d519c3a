"""What every `lifecycle` command shares: its settings, its one-line errors and their exit codes, tables or
JSON, and the HTTP client of the services.

A command never prints a traceback: it raises `CliError` (or lets one of the failures `main` knows about
escape: a refused connection, a broker or database that does not answer) and `main` prints one line to
stderr and exits with the code of its kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, ClassVar, Protocol

import httpx
import orjson
import rich.progress
import typer
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError
from pydantic import Field
from pymongo import AsyncMongoClient
from rich.console import Console, RenderableType

from shared.service.settings import DEV_ADMIN_TOKEN, ServiceSettings


class Exit(enum.IntEnum):
    """Exit codes, the same for every command (shown by `lifecycle --help`)."""

    OK = 0
    FAILED = 1
    """The operation ran and did not succeed: a command rejected, a replay that differs, a re-drive that failed."""
    BAD_INPUT = 2
    """The arguments or the input file are wrong (click's own usage errors use 2 too)."""
    NOT_FOUND = 3
    UNREACHABLE = 4
    """A service, the broker or the database does not answer."""
    FORBIDDEN = 5
    """The token is unknown or may not do this."""
    TIMED_OUT = 6
    """An outcome did not arrive in time (the command may still complete: see `lifecycle command ID`)."""


EXIT_CODES_HELP = "Exit codes: " + ", ".join(f"{code.value} {code.name.lower().replace('_', ' ')}" for code in Exit)


class CliError(Exception):
    """A failure told in one line, with the exit code of its kind."""

    def __init__(self, message: str, code: Exit = Exit.FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def not_found(message: str) -> CliError:
    return CliError(message, Exit.NOT_FOUND)


def bad_input(message: str) -> CliError:
    return CliError(message, Exit.BAD_INPUT)


# Tables are wide: when the output is not a terminal (make run, CI logs) rich would assume 80 columns;
# COLUMNS, when set, still decides.
console = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 400)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts) instead of a table")]


def emit(data: Any, as_json: bool, render: Callable[[], RenderableType | str]) -> None:
    """JSON on stdout for scripts (exactly `data`, one document), else what `render` draws."""
    if as_json:
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")
    else:
        console.print(render())


class CliSettings(ServiceSettings):
    """The CLI reads the shared `LIFECYCLE_*` variables like every service, and `LIFECYCLE_CLI_*`:
    the services' URLs and the bearer token."""

    service_env_prefix: ClassVar[str] = "LIFECYCLE_CLI_"

    service_name: str = "cli"
    inventory_url: str = "http://127.0.0.1:8001"
    actions_url: str = "http://127.0.0.1:8002"
    replacement_url: str = "http://127.0.0.1:8003"
    retraining_url: str = "http://127.0.0.1:8004"
    token: str = DEV_ADMIN_TOKEN
    connect_timeout_s: float = Field(
        default=5.0, gt=0, description="How long the broker or the database may take to answer before the CLI gives up"
    )


def settings() -> CliSettings:
    return CliSettings()


class ServiceClient:
    """One service's HTTP API, with its error answers turned into `CliError`s of the right kind."""

    def __init__(self, name: str, base_url: str, token: str, timeout: float = 10.0) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._request("GET", path, params=params)

    def post(self, path: str, body: Any = None, headers: Mapping[str, str] | None = None) -> Any:
        return self._request("POST", path, json=body, headers=headers)

    def put(self, path: str, body: Any = None) -> Any:
        return self._request("PUT", path, json=body)

    def delete(self, path: str) -> Any:
        return self._request("DELETE", path)

    def request(self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None) -> Any:
        """Any method with a JSON body and headers (a command's Idempotency-Key on PUT, PATCH or DELETE)."""
        return self._request(method, path, json=body, headers=headers)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise CliError(
                f"the {self.name} service does not answer at {self.base_url} ({type(error).__name__}); "
                "is the stack running (make run)?",
                Exit.UNREACHABLE,
            ) from error
        if response.status_code >= 400:
            raise _error_of(self.name, response)
        return response.json() if response.content else None


def _error_of(service: str, response: httpx.Response) -> CliError:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text.strip()[:200]}
    detail = body.get("detail") if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI's validation errors: where and what
        detail = "; ".join(f"{'.'.join(map(str, e.get('loc', [])[1:]))}: {e.get('msg')}" for e in detail)
    code = body.get("code") if isinstance(body, dict) else None
    message = f"{detail}" + (f" [{code}]" if code else "")
    kind = {400: Exit.BAD_INPUT, 422: Exit.BAD_INPUT, 401: Exit.FORBIDDEN, 403: Exit.FORBIDDEN, 404: Exit.NOT_FOUND}
    if status >= 500:
        return CliError(f"the {service} service failed ({status}): {message}", Exit.FAILED)
    return CliError(message, kind.get(status, Exit.FAILED))


def client(service: str) -> ServiceClient:
    """`inventory`, `actions`, `replacement` or `retraining`."""
    s = settings()
    return ServiceClient(service, getattr(s, f"{service}_url"), s.token)


async def check_broker(bootstrap: str | None = None) -> None:
    """Fail in one line within `connect_timeout_s` when the broker does not answer: aiokafka itself would
    retry an unreachable host for 40 s and log every attempt."""
    s = settings()
    servers = bootstrap or s.kafka.bootstrap_servers
    probe = AIOKafkaClient(bootstrap_servers=servers, request_timeout_ms=int(s.connect_timeout_s * 1000))
    try:
        await asyncio.wait_for(probe.bootstrap(), s.connect_timeout_s)
    except (TimeoutError, KafkaError, OSError) as error:
        raise CliError(
            f"the Kafka broker does not answer at {servers} ({type(error).__name__}); is the stack running (make run)?",
            Exit.UNREACHABLE,
        ) from error
    finally:
        await probe.close()


def database_client(url: str | None = None) -> AsyncMongoClient[dict[str, Any]]:
    """A database client that gives up after `connect_timeout_s` (`main` turns that into one line)."""
    s = settings()
    timeout_ms = int(s.connect_timeout_s * 1000)
    return AsyncMongoClient(
        url or s.mongo.url,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        appname="lifecycle-cli",
    )


class Progress(Protocol):
    def size(self, total: int) -> None:
        """The total, once known (a log's size is known only once its partitions are assigned)."""

    def advance(self, amount: int) -> None: ...


class _Quiet:
    def size(self, total: int) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass


@contextlib.contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Progress]:
    """A progress bar on stderr while long work runs, only when stderr is a terminal (never in pipes,
    logs or tests, and never on stdout, which may be JSON)."""
    if not errors.is_terminal:
        yield _Quiet()
        return
    with rich.progress.Progress(
        rich.progress.TextColumn("{task.description}"),
        rich.progress.BarColumn(),
        rich.progress.MofNCompleteColumn(),
        rich.progress.TimeElapsedColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)

        class _Bar:
            def size(self, total: int) -> None:
                bar.update(task, total=total)

            def advance(self, amount: int) -> None:
                bar.advance(task, amount)

        yield _Bar()
