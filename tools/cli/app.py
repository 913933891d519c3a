"""`lifecycle`: the operators' command line: the inventory, a deployment's audit trail and its state at a
past time, projection rebuilds by replay, dead letters, publishing, and the commands on deployments."""

from __future__ import annotations

import sys

import click
import typer
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError

from tools.cli.common import EXIT_CODES_HELP, CliError, Exit, errors, settings

app = typer.Typer(
    help=f"{__doc__}\n\n{EXIT_CODES_HELP}.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _register() -> None:
    """Each module adds its commands or group to `app` (imported here so `--help` lists them all)."""
    # Groups are added as their modules land; keep this list in the order of `--help`.


def main() -> None:
    _register()
    try:
        code = app(standalone_mode=False)
    except CliError as error:
        _fail(error.message, error.code)
    except click.exceptions.Abort:
        _fail("interrupted", Exit.FAILED)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except (KafkaConnectionError, KafkaTimeoutError) as error:
        _fail(f"the Kafka broker does not answer at {settings().kafka.bootstrap_servers} ({error})", Exit.UNREACHABLE)
    except (ServerSelectionTimeoutError, ConnectionFailure) as error:
        _fail(f"the database does not answer at {settings().mongo.url} ({type(error).__name__})", Exit.UNREACHABLE)
    except KeyboardInterrupt:
        _fail("interrupted", Exit.FAILED)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: Exit) -> None:
    errors.print(f"lifecycle: {message}", soft_wrap=True, markup=False, highlight=False)
    sys.exit(int(code))
