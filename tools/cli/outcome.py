"""Commands on deployments, as every `lifecycle` verb that changes something sends them: submit to a
service (202 with the command id), then wait for its outcome at `GET /commands/{id}` and tell it in
one block.

- completed: what happened, in words the verb chooses (`deactivated dep-1`, a change request opened…);
- rejected by the service when it ran: one line with the code and the reason, exit 1;
- refused at the door (403/404/409, bad input): ServiceClient's one line and exit code;
- no outcome in time: exit 6 with the command id to look at later (`lifecycle command ID`).

Every submission carries an Idempotency-Key (`--idempotency-key`, a fresh one by default): sending
the same invocation again with the same key runs the command once and reports its outcome.
`lifecycle command ID` shows where any command stands.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import time
import uuid
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.text import Text

from tools.cli.common import CliError, Exit, JsonFlag, ServiceClient, client, emit, errors, not_found

COMMAND_SERVICES = ("actions", "replacement", "retraining")
DEFAULT_TIMEOUT = 30.0
ID_FIELDS = ("change_request_id", "challenger_id", "policy_id", "run_id")
"""What an acceptance may add to the command id: the ids the command creates or acts on."""

Timeout = Annotated[
    float, typer.Option("--timeout", min=0, help="Seconds to wait for the outcome (exit 6 when it does not come)")
]
NoWait = Annotated[bool, typer.Option("--no-wait", help="Print the accepted command's id and return at once")]
IdempotencyKey = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        help="The command's id (default: a fresh one); sending the same key again runs the command once",
    ),
]


@dataclasses.dataclass(frozen=True)
class Waiting:
    """How a verb waits and answers: its `--timeout`, `--no-wait`, `--idempotency-key` and `--json`."""

    timeout: float = DEFAULT_TIMEOUT
    no_wait: bool = False
    idempotency_key: str | None = None
    as_json: bool = False


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A completed command: the service's client (to read what it made), the acceptance, the final status."""

    http: ServiceClient
    accepted: dict[str, Any]
    status: dict[str, Any]

    @property
    def command_id(self) -> str:
        return str(self.accepted["command_id"])


Describe = Callable[[Outcome], str]


@dataclasses.dataclass(frozen=True)
class Request:
    """One command to send: `what` names it in messages (`deactivate dep-1`); `done` tells what a completed
    one did (a sentence, or a function of the Outcome that may read more, e.g. the change request it opened)."""

    service: str
    method: str
    path: str
    body: Any
    what: str
    done: Describe | str


WAIT_OPTIONS = [
    inspect.Parameter("timeout", inspect.Parameter.KEYWORD_ONLY, default=DEFAULT_TIMEOUT, annotation=Timeout),
    inspect.Parameter("no_wait", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=NoWait),
    inspect.Parameter("idempotency_key", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=IdempotencyKey),
    inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=JsonFlag),
]


def waits(build: Callable[..., Request]) -> Callable[..., None]:
    """A verb from a function that builds its Request: the verb takes `build`'s arguments and options plus
    --timeout, --no-wait, --idempotency-key and --json (typer reads the signature given here), sends the
    command and reports its outcome. Every command verb shares these four options this way."""
    signature = inspect.signature(build, eval_str=True)
    parameters = [*signature.parameters.values(), *WAIT_OPTIONS]

    @functools.wraps(build)
    def verb(
        *args: Any, timeout: float, no_wait: bool, idempotency_key: str | None, as_json: bool, **kwargs: Any
    ) -> None:
        submit(build(*args, **kwargs), Waiting(timeout, no_wait, idempotency_key, as_json))

    verb.__signature__ = signature.replace(parameters=parameters, return_annotation=None)  # type: ignore[attr-defined]
    verb.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    return verb


def submit(request: Request, waiting: Waiting) -> None:
    """Send one command and report its outcome (see the module's docstring)."""
    http = client(request.service)
    key = waiting.idempotency_key or str(uuid.uuid4())
    accepted: dict[str, Any] = http.request(request.method, request.path, request.body, {"Idempotency-Key": key})
    command_id = str(accepted["command_id"])
    ids = {name: accepted[name] for name in ID_FIELDS if accepted.get(name)}
    if waiting.no_wait:
        follow = f"`lifecycle command {command_id} --service {request.service}`"
        told = f"accepted: {request.what} is command {command_id}; follow it with {follow}"
        emit(accepted, waiting.as_json, lambda: unwrapped("\n".join([told, *(f"{k}: {v}" for k, v in ids.items())])))
        return
    status = wait_for(http, command_id, waiting.timeout, what=request.what, service=request.service)
    if status["status"] == "rejected":
        if waiting.as_json:
            emit({**status, **ids}, True, lambda: "")
        raise CliError(f"{request.what} rejected: {status.get('reason')} [{status.get('code')}]", Exit.FAILED)
    done = request.done
    told = done if isinstance(done, str) else done(Outcome(http, accepted, status))
    emit({**status, **ids}, waiting.as_json, lambda: unwrapped(told))


def unwrapped(text: str) -> Text:
    """Lines as they are: a command to copy (`lifecycle approve …`) must not be broken at the edge."""
    return Text(text, no_wrap=True, overflow="ignore")


def wait_for(http: ServiceClient, command_id: str, timeout: float, *, what: str, service: str) -> dict[str, Any]:
    """The command's status once it is decided; exit 6 (TIMED_OUT) when `timeout` passes first. Ctrl-C
    stops the waiting, not the command: both say how to look at it later."""
    later = f"`lifecycle command {command_id} --service {service}`"
    deadline = time.monotonic() + timeout
    pause = 0.05
    waiting = errors.status(f"waiting for {what} ({command_id})…") if errors.is_terminal else contextlib.nullcontext()
    try:
        with waiting:
            while (status := http.get(f"/commands/{command_id}"))["status"] == "accepted":
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CliError(
                        f"{what}: no outcome within {timeout:g}s (command {command_id} is still accepted); "
                        f"it may still complete: {later}",
                        Exit.TIMED_OUT,
                    )
                time.sleep(min(pause, left))
                pause = min(pause * 2, 0.5)
    except KeyboardInterrupt:
        raise CliError(f"stopped waiting for {what}; command {command_id} goes on: {later}", Exit.FAILED) from None
    return dict(status)


ServiceOption = Annotated[
    str | None,
    typer.Option("--service", help="actions, replacement or retraining (default: ask each)", show_default=False),
]


def command(
    command_id: Annotated[str, typer.Argument(help="The command id (printed when a command is accepted)")],
    service: ServiceOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Where a command stands: accepted, completed (its events) or rejected (code, reason)."""
    if service is not None and service not in COMMAND_SERVICES:
        raise CliError(f"--service must be one of {', '.join(COMMAND_SERVICES)}, not {service!r}", Exit.BAD_INPUT)
    found, asked, unreachable = None, [], []
    for name in [service] if service else COMMAND_SERVICES:
        try:
            found = (name, client(name).get(f"/commands/{command_id}"))
            break
        except CliError as error:
            if error.code is Exit.UNREACHABLE and service is None:
                unreachable.append(name)
                continue
            if error.code is not Exit.NOT_FOUND:
                raise
            asked.append(name)
    if found is None:
        silent = f" ({', '.join(unreachable)} did not answer)" if unreachable else ""
        raise not_found(f"command {command_id} not found in {' or '.join(asked) or 'any service'}{silent}")
    name, status = found
    emit({**status, "service": name}, as_json, lambda: unwrapped(status_block(name, status)))


def status_block(service: str, status: dict[str, Any]) -> str:
    lines = [
        f"command   {status['command_id']} ({service})",
        f"type      {status['command_type']} on {status['deployment_id']}",
        f"status    {status['status']}",
    ]
    if status["status"] == "rejected":
        lines.append(f"reason    {status.get('reason')} [{status.get('code')}]")
    if status.get("event_ids"):
        lines.append(f"events    {', '.join(status['event_ids'])}")
    lines.append(f"accepted  {status['accepted_at']}")
    if status.get("decided_at"):
        lines.append(f"decided   {status['decided_at']}")
    return "\n".join(lines)


DeploymentId = Annotated[str, typer.Argument(help="The deployment id", show_default=False)]


def change_request_opened(outcome: Outcome, change_request_id: str, action: str) -> str:
    """What to say about a command that opened a change request instead of running."""
    deployment_id = outcome.accepted["deployment_id"]
    return (
        f"change request {change_request_id} opened on {deployment_id}: {action} needs approval by another owner "
        f"or an admin\n"
        f"  approve: lifecycle approve {deployment_id} {change_request_id}\n"
        f"  reject:  lifecycle reject {deployment_id} {change_request_id} --reason …"
    )
