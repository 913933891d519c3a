"""Events about commands themselves."""

from __future__ import annotations

from typing import ClassVar

from shared.contract.messages import Event
from shared.contract.topology import Stream


class CommandRejected(Event):
    """A command was refused; `reason` is written for the caller to read."""

    type_name: ClassVar[str] = "CommandRejected"
    stream: ClassVar[Stream] = Stream.DEPLOYMENT

    command_id: str
    command_type: str
    code: str
    reason: str
