"""`lifecycle`: the operators' command line: the inventory, a deployment's audit trail and its state at a
past time, projection rebuilds by replay, dead letters, publishing, and the commands on deployments."""

from __future__ import annotations

import logging
import os
import sys
import warnings

import click
import structlog
import typer
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer bundles its own click
from typer.exceptions import TyperException

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
    from tools.cli import audit, inventory, publish

    app.add_typer(inventory.deployments, name="deployments")
    app.command("summary")(inventory.summary)
    app.command("history")(audit.history)
    app.command("at")(audit.at)
    from tools.cli import dlq, replay

    app.command("replay")(replay.replay)
    app.add_typer(dlq.dlq, name="dlq")
    app.command("publish")(publish.publish)
    from tools.cli import actions, outcome, replacement, retraining

    actions.register_commands(app)
    replacement.register_commands(app)
    retraining.register_commands(app)
    app.command("command")(outcome.command)


def main() -> None:
    _quiet_libraries()
    _register()
    try:
        code = app(standalone_mode=False, prog_name="lifecycle")
    except CliError as error:
        _fail(error.message, error.code)
    except (click.exceptions.Abort, typer.Abort):
        _fail("interrupted", Exit.FAILED)
    except NoArgsIsHelpError as error:  # a group without its command: its help, as `--help` shows it
        error.show()
        sys.exit(int(Exit.BAD_INPUT))
    except UsageError as error:  # typer's own click: a missing argument, an unknown option, a bad value
        where = error.ctx.command_path if error.ctx else "lifecycle"
        _fail(f"{where.removeprefix('lifecycle ')}: {error.format_message()} (see --help)", Exit.BAD_INPUT)
    except (click.ClickException, TyperException) as error:
        _fail(error.format_message(), Exit.FAILED)
    except (KafkaConnectionError, KafkaTimeoutError) as error:
        _fail(f"the Kafka broker does not answer at {settings().kafka.bootstrap_servers} ({error})", Exit.UNREACHABLE)
    except (ServerSelectionTimeoutError, ConnectionFailure) as error:
        _fail(f"the database does not answer at {settings().mongo.url} ({type(error).__name__})", Exit.UNREACHABLE)
    except KeyboardInterrupt:
        _fail("interrupted", Exit.FAILED)
    except Exception as error:  # a bug: still one line, the traceback only on request
        if os.environ.get("LIFECYCLE_CLI_DEBUG"):
            raise
        _fail(f"unexpected {type(error).__name__}: {error} (LIFECYCLE_CLI_DEBUG=1 shows the traceback)", Exit.FAILED)
    sys.exit(code if isinstance(code, int) else 0)


def _quiet_libraries() -> None:
    """aiokafka, FastStream and asyncio log their retries and unclosed clients as warnings; an operator
    gets one line from `main` instead, so nothing of theirs reaches stderr."""
    logging.getLogger().addHandler(logging.NullHandler())
    logging.getLogger().setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore", ResourceWarning)
    # The shared code's structlog loggers print to stdout when unconfigured: that would break --json.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))


def _fail(message: str, code: Exit) -> None:
    errors.print(f"lifecycle: {message}", soft_wrap=True, markup=False, highlight=False)
    sys.exit(int(code))
