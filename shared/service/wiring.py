"""The command side of a command-owning service, wired the one way every service wires it: the outbox
that publishes what the handler decided, the sweeper that takes over an outbox a crash left behind, the
handler itself, and the dead letters its consumers send what they cannot read."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Generic

from shared.contract.messages import MessageRegistry
from shared.domain.decider import C, Decider
from shared.messaging.dead_letters import LEDGER_COLLECTION, DeadLetters, MongoLedger
from shared.service.commands import (
    BatchDecider,
    Clock,
    CommandHandler,
    CommandMetrics,
    CommandSettings,
    FollowUps,
    Outbox,
    OutboxSweeper,
    RefusalIn,
    S,
    utc_now,
)
from shared.service.faults import after_state_write
from shared.service.runtime import Runtime
from shared.service.settings import ServiceSettings
from shared.storage.aggregates import AggregateStore, CommandStatuses


@dataclasses.dataclass(frozen=True)
class CommandSide(Generic[S, C]):
    outbox: Outbox
    sweeper: OutboxSweeper
    handler: CommandHandler[S, C]
    dead_letters: DeadLetters

    async def sweep(self) -> None:
        """The periodic sweep (its first run, right at start, publishes whatever a crash left in an outbox)."""
        await self.sweeper.sweep()


def command_side(
    runtime: Runtime,
    settings: ServiceSettings,
    commands: CommandSettings,
    *,
    decider: Decider[S, C],
    store: AggregateStore[S],
    statuses: CommandStatuses,
    registry: MessageRegistry,
    clock: Clock = utc_now,
    decider_for_batch: BatchDecider[S, C] | None = None,
    follow_ups: FollowUps[S] | None = None,
    refusal_in: RefusalIn | None = None,
) -> CommandSide[S, C]:
    """`commands` is the service's `<SERVICE>_COMMANDS__*`; the last three are CommandHandler's options."""
    outbox = Outbox(store, runtime.publisher, registry, CommandMetrics(runtime.metrics.registry))
    sweeper = OutboxSweeper(store, outbox, grace=timedelta(seconds=commands.sweep_grace_s), clock=clock)
    handler = CommandHandler(
        service=settings.service_name,
        decider=decider,
        store=store,
        statuses=statuses,
        outbox=outbox,
        clock=clock,
        parallelism=commands.parallelism,
        after_state_write=after_state_write(commands),
        before_first_batch=sweeper.swept_at_start,
        decider_for_batch=decider_for_batch,
        follow_ups=follow_ups,
        refusal_in=refusal_in,
    )
    ledger = MongoLedger(runtime.db[LEDGER_COLLECTION])
    dead_letters = DeadLetters(runtime.publisher, settings.topics.dead_letters, ledger, service=settings.service_name)
    return CommandSide(outbox, sweeper, handler, dead_letters)
