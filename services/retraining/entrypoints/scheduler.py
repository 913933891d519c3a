"""The scheduler loop: turns what the handler folded, and the passing of time, into commands.

Folding cannot emit anything, so each instance runs this loop beside its command handler (see
domain.due): for every deployment whose stored `wake_at` has come, it publishes `due_commands(state,
now)`: the service's own internal commands (StartScheduledRun, StartTriggeredRun, AdvanceRun,
ExpireTraining) to its command topic, a run's ReplaceModel / AddChallenger to the replacement service's
(each to `command.stream`). It looks

- on every tick (`RETRAINING_SCHEDULER__INTERVAL_S`): what only time brings, a schedule's due time, a
  training deadline, a retry: the deployments whose `wake_slot` is a minute since the last tick (one
  equality query a minute, cheap on FerretDB too; see adapters/store.py). The first tick, a tick after
  a long pause, and one every `RETRAINING_SCHEDULER__FULL_SWEEP_INTERVAL_S` sweep instead: every
  deployment whose `wake_at` has come (a scan on FerretDB), for what slots cannot show (work slotted by an
  instance whose clock runs behind; a command sent but not yet decided when its minute passed);
- right after each batch the handler applied (`NudgingHandler`), at the deployments of that batch (point
  reads by `_id`): what an event brings, a fire, the trainer's or the replacement service's answer, is
  sent at once rather than at the next tick.

Command ids derive from the work, so every instance and every look sends the same command for the same
work and the handler decides it once; that is how two instances never start one scheduled run twice.
A command stays listed until the state shows it decided: an instance does not send again an id it sent
less than `resend_after` ago (the handler has probably not reached it yet), and sends it again after
(the same id: dropped if it was decided meanwhile).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter

from services.retraining.adapters.store import SLOT, RetrainingDocuments, slot_start
from services.retraining.domain.due import due_commands
from services.retraining.domain.rules import Rules
from services.retraining.domain.state import RetrainingState
from shared.contract.commands.retraining import RetrainingCommand
from shared.contract.envelope import wrap
from shared.contract.messages import Command, Event
from shared.domain.decider import Decider
from shared.messaging.consumer import Inbound
from shared.messaging.publisher import KafkaPublisher
from shared.service.commands import Clock, CommandHandler, utc_now
from shared.service.logging import get_logger

log = get_logger(__name__)

CHUNK = 200
"""Deployments whose commands are published together during a tick."""
MAX_SLOTS = 60
"""Minutes a tick asks for one by one; after a longer pause (or a clock moved ahead) it sweeps."""


class Scheduler:
    def __init__(
        self,
        documents: RetrainingDocuments,
        publisher: KafkaPublisher,
        rules: Rules,
        *,
        service: str,
        metrics: CollectorRegistry,
        resend_after: timedelta = timedelta(seconds=60),
        full_sweep_every: timedelta = timedelta(minutes=15),
        clock: Clock = utc_now,
    ) -> None:
        self.documents = documents
        self.publisher = publisher
        self.rules = rules
        self.service = service
        self.resend_after = resend_after.total_seconds()
        self.full_sweep_every = full_sweep_every.total_seconds()
        self.clock = clock
        self._swept_through: datetime | None = None
        """The minute of the last tick that looked at every slot: the next tick starts there."""
        self._full_sweep_at = time.monotonic()
        self._ticked_at = time.monotonic()
        self.stalled_after = 120.0
        """Seconds without a completed tick before readiness says so (a first sweep on FerretDB takes a while)."""
        self._sent: dict[str, float] = {}
        """Command id -> when this instance last sent it (monotonic seconds)."""
        self.commands_sent = Counter(
            "lifecycle_retraining_commands_sent",
            "Commands the scheduler loop sent, by type and by what found them due (tick, sweep or event)",
            ["type", "by"],
            registry=metrics,
        )

    async def tick(self) -> int:
        """Send what is due at every deployment whose work starts in a minute since the last tick (a full
        sweep instead at the first tick, after a pause of more than `MAX_SLOTS` minutes, and every
        `full_sweep_every`); how many commands were sent."""
        now = self.clock()
        current = slot_start(now)
        swept = self._swept_through
        overdue = time.monotonic() - self._full_sweep_at >= self.full_sweep_every
        if swept is None or overdue or current - swept > MAX_SLOTS * SLOT:
            self._full_sweep_at = time.monotonic()
            sent = await self._send_all(self.documents.due(now), by="sweep")
        else:
            sent = 0
            slot = min(swept, current)
            while slot <= current:
                sent += await self._send_all(self.documents.in_slot(slot), by="tick")
                slot += SLOT
        self._swept_through = current  # only once every slot was looked at: a failed tick is redone
        self._ticked_at = time.monotonic()
        return sent

    def readiness(self) -> str:
        """Answers "ok", or how long the loop has not completed a tick (its failures are logged)."""
        waited = time.monotonic() - self._ticked_at
        return "ok" if waited < self.stalled_after else f"no tick completed for {waited:.0f}s"

    async def _send_all(self, states: AsyncIterator[RetrainingState], *, by: str) -> int:
        sent = 0
        chunk: list[RetrainingState] = []
        async for state in states:
            chunk.append(state)
            if len(chunk) >= CHUNK:
                sent += await self._send(chunk, by=by)
                chunk = []
        return sent + await self._send(chunk, by=by)

    async def nudge(self, deployment_ids: Iterable[str]) -> int:
        """Send what is due now at these deployments (just changed by the handler)."""
        states = [await self.documents.due_state(deployment_id) for deployment_id in sorted(set(deployment_ids))]
        return await self._send([state for state in states if state is not None], by="event")

    async def _send(self, states: Sequence[RetrainingState], *, by: str) -> int:
        now = self.clock()
        moment = time.monotonic()
        self._sent = {command_id: at for command_id, at in self._sent.items() if moment - at < self.resend_after}
        fresh: list[Command] = []
        for state in states:
            fresh += [c for c in due_commands(state, now, self.rules) if c.command_id not in self._sent]
        if not fresh:
            return 0
        for command in fresh:
            self._sent[command.command_id] = moment  # before the await: a concurrent look skips them
        envelopes = [
            wrap(command, source=self.service, event_id=command.command_id, time=now, actor=command.actor.user)
            for command in fresh
        ]
        try:
            await self.publisher.publish_envelopes(envelopes, fresh)
        except BaseException:
            for command in fresh:
                self._sent.pop(command.command_id, None)
            raise
        for command in fresh:
            self.commands_sent.labels(type=command.type_name, by=by).inc()
            log.info(
                "sent",
                type=command.type_name,
                command_id=command.command_id,
                deployment_id=command.deployment_id,
                by=by,
            )
        return len(fresh)


class NudgingHandler:
    """The command handler, followed by a look of the scheduler at the deployments it may have changed
    (those with a command, or an event the decider folds that is not the service's own). A failed look
    is logged and left to the next tick: the batch itself was applied."""

    def __init__(self, handler: CommandHandler[RetrainingState, RetrainingCommand], scheduler: Scheduler) -> None:
        self.handler = handler
        self.scheduler = scheduler
        self.decider: Decider[RetrainingState, RetrainingCommand] = handler.decider

    async def __call__(self, batch: Sequence[Inbound]) -> None:
        await self.handler(batch)
        touched = {inbound.envelope.subject for inbound in batch if self._may_change_state(inbound)}
        if not touched:
            return
        try:
            await self.scheduler.nudge(touched)
        except Exception:
            log.exception("scheduler could not look at the deployments just changed; the next tick will")

    def _may_change_state(self, inbound: Inbound) -> bool:
        message = inbound.message
        if isinstance(message, Command):
            return True
        return (
            isinstance(message, Event)
            and inbound.envelope.source != self.handler.service
            and self.decider.reacts_to(message)
        )
