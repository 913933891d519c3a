"""Test-only fault injection for command-owning services (`<SERVICE>_COMMANDS__FAULT`): the process kills
itself right after its next state write, so a test can show the outbox is published after a restart."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

from shared.service.commands import KILL_AFTER_STATE_WRITE, CommandSettings
from shared.service.logging import get_logger

log = get_logger(__name__)


def after_state_write(commands: CommandSettings) -> Callable[[], None] | None:
    """The handler's `after_state_write` hook: None unless the fault is asked for."""
    if commands.fault != KILL_AFTER_STATE_WRITE:
        return None
    log.warning("TEST FAULT INJECTION ON: the process kills itself after its next state write")

    def kill() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    return kill
