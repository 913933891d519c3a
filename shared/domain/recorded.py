"""What the domain sees of an event: the message and the facts of its recording, never the transport."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Generic, TypeVar

from shared.contract.messages import Message

M = TypeVar("M", bound=Message, covariant=True)


@dataclasses.dataclass(frozen=True, slots=True)
class Recorded(Generic[M]):
    """An event as it was recorded in the log: its id, time (UTC), who caused it and why."""

    message: M
    id: str
    time: datetime
    subject: str
    actor: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None

    @property
    def order_key(self) -> tuple[datetime, str]:
        """Total order for last-writer-wins: event time, then event id to break ties."""
        return (self.time, self.id)
