"""Commands end in events exactly once: the handler, the outbox and its sweeper, and the HTTP pieces.

A service's command handler is the batch handler of its one consumer, subscribed to its command topic
and to the topics whose events keep its state current. Per batch, each deployment's records are taken
in order (one deployment strictly sequential, different deployments in parallel):

1. load the deployment's document (state, outbox, recent outcomes, applied offsets);
2. skip what it already holds: a redelivered record (offset), a re-sent command (id), the service's own
   events coming back from the log (folded when they were decided);
3. fold other events; decide each command with the injected clock, derive its events' ids from the
   command id (`derived_id(command_id, "0")`, ...), fold them; a rejection is a CommandRejected event;
4. write state + outbox + outcome in ONE document write guarded by the revision read;
5. publish the outbox, then clear it (guarded again), then make the commands findable by id.

Optional hooks: `decider_for_batch` builds the decider per deployment batch (for a decide that needs
more than the state, e.g. a catalog loaded beside it); `follow_ups` lets an event release commands
(an approved change request's held command), decided in step 3 right after it; `refusal_in` marks an
outcome `rejected` when its events record a refusal (e.g. `ModelReplacementRejected`).

A crash after 4 leaves the events in the outbox: the sweeper (at start, then periodically) publishes
them under the same ids, and consumers drop any copy. FerretDB v1 has no transactions; nothing here
needs one. The HTTP side (202, `GET /commands/{id}`) is shared.service.command_api.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Literal, TypeVar, cast

from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel, Field

from shared.contract.envelope import Envelope, derived_id, wrap
from shared.contract.events.commands import CommandRejected
from shared.contract.messages import Command, Event, Message, MessageRegistry
from shared.domain.decider import C, Decider, Rejection
from shared.domain.recorded import Recorded
from shared.messaging.consumer import Inbound
from shared.messaging.publisher import KafkaPublisher
from shared.service.logging import bound, get_logger
from shared.service.settings import Part
from shared.storage.aggregates import (
    Aggregate,
    AggregateStore,
    CommandStatuses,
    Outcome,
    RevisionConflict,
)

log = get_logger(__name__)

S = TypeVar("S", bound=BaseModel)
Clock = Callable[[], datetime]
BatchDecider = Callable[[S, Sequence[Message]], Awaitable[Decider[S, C]]]
FollowUps = Callable[[S, Recorded[Event]], Sequence[Command]]
RefusalIn = Callable[[Sequence[Event]], Rejection | None]
_CONFLICT_ATTEMPTS = 5


def utc_now() -> datetime:
    return datetime.now(UTC)


KILL_AFTER_STATE_WRITE = "kill-after-state-write"


class CommandSettings(Part):
    """How a command-owning service runs its commands (`<SERVICE>_COMMANDS__...`)."""

    parallelism: int = Field(default=16, ge=1, description="Deployments decided at once within a batch")
    sweep_interval_s: float = Field(
        default=60.0,
        gt=0,
        description="How often the sweeper looks for outboxes left behind. A safety net: the first sweep runs "
        "at start and the handler publishes any outbox it finds full; on FerretDB each look scans the collection",
    )
    sweep_grace_s: float = Field(default=30.0, ge=0, description="Age before the sweeper takes over an outbox")
    status_horizon_days: float = Field(default=7, gt=0, description="How long `GET /commands/{id}` knows a command")
    fault: Literal["", "kill-after-state-write"] = Field(
        default="",
        description="TEST ONLY, never in production: 'kill-after-state-write' makes the process SIGKILL itself "
        "right after a command's state write and before its events are published, to prove the outbox",
    )


class CommandMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.decided = Counter(
            "lifecycle_commands_decided",
            "Commands decided, by type and outcome",
            ["type", "outcome"],
            registry=registry,
        )
        self.published = Counter(
            "lifecycle_outbox_published",
            "Events published from the outbox, by who published them",
            ["by"],
            registry=registry,
        )


class Outbox:
    """Publishes a document's pending events, then clears them from it."""

    def __init__(
        self, store: AggregateStore[Any], publisher: KafkaPublisher, registry: MessageRegistry, metrics: CommandMetrics
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.registry = registry
        self.metrics = metrics

    async def flush(self, aggregate: Aggregate[Any], *, by: str) -> None:
        if not aggregate.outbox:
            return
        messages = [self.registry.parse(e.type, e.schema_version, e.data) for e in aggregate.outbox]
        await self.publisher.publish_envelopes(aggregate.outbox, messages)
        self.metrics.published.labels(by=by).inc(len(aggregate.outbox))
        if not await self.store.clear_outbox(aggregate.deployment_id, aggregate.revision):
            # Someone wrote the document meanwhile; its outbox still lists these, so the next flush
            # publishes them again under the same ids and consumers drop the copies.
            log.info("outbox changed while publishing", deployment_id=aggregate.deployment_id)


@dataclasses.dataclass(frozen=True, slots=True)
class _Step(Generic[S]):
    aggregate: Aggregate[S]
    changed: bool
    outcomes: list[Outcome]
    """Outcomes to make findable by id: of the commands decided now, and of re-sent or redelivered ones."""
    decided: list[Outcome]
    """Of the commands decided now only."""
    evicted: list[Outcome]
    """Outcomes pushed out of the document's bounded list: kept in the status collection instead."""


class CommandHandler(Generic[S, C]):
    """The batch handler of a command-owning service (see the module docstring)."""

    def __init__(
        self,
        *,
        service: str,
        decider: Decider[S, C],
        store: AggregateStore[S],
        statuses: CommandStatuses,
        outbox: Outbox,
        clock: Clock = utc_now,
        after_state_write: Callable[[], None] | None = None,
        before_first_batch: Callable[[], Awaitable[object]] | None = None,
        parallelism: int = 16,
        decider_for_batch: BatchDecider[S, C] | None = None,
        follow_ups: FollowUps[S] | None = None,
        refusal_in: RefusalIn | None = None,
    ) -> None:
        self.service = service
        self.decider = decider
        self.decider_for_batch = decider_for_batch
        """The decider for one deployment's batch (state as loaded, the batch's messages): for a decide that
        needs what lives outside the state (the replacement service's package catalog), loaded here. None:
        `decider` decides everything. Folds, command types and reactions are always `decider`'s."""
        self.follow_ups = follow_ups
        """Commands an event releases (an approved change request's held command), given the state after
        the event: decided right after it, in the same document write, and run once by their ids."""
        self.refusal_in = refusal_in
        """A decision whose events record a refusal (e.g. `ModelReplacementRejected`): its outcome is
        `rejected` with that code and reason, so `GET /commands/{id}` says so; the events are published."""
        self.store = store
        self.statuses = statuses
        self.outbox = outbox
        self.clock = clock
        self.after_state_write = after_state_write
        """Test-only fault injection between the state write and the publish; None in production."""
        self.before_first_batch = before_first_batch
        """Awaited before each batch (OutboxSweeper.swept_at_start): what a crash left pending is
        published before anything new is decided, so a deployment's events keep their order and the
        handler, which also flushes outboxes it finds full, never races the sweeper over them."""
        self._parallel = asyncio.Semaphore(parallelism)

    async def __call__(self, batch: Sequence[Inbound]) -> None:
        if self.before_first_batch is not None:
            await self.before_first_batch()
        by_deployment: dict[str, list[Inbound]] = {}
        for inbound in batch:
            if self._concerns_the_state(inbound):
                by_deployment.setdefault(inbound.envelope.subject, []).append(inbound)
        results = await asyncio.gather(
            *(self._deployment(subject, items) for subject, items in by_deployment.items()), return_exceptions=True
        )
        steps = [result for result in results if isinstance(result, _Step)]
        await self.statuses.remember([outcome for step in steps for outcome in step.outcomes])
        await self.statuses.record([outcome for step in steps for outcome in step.evicted])
        for result in results:
            if isinstance(result, BaseException):
                raise result  # the others are written; the consumer retries or isolates this one

    def _concerns_the_state(self, inbound: Inbound) -> bool:
        """Commands do; events only if the decider reacts to them and they are not this service's own
        (folded when they were decided), so the events every command sends back cost no read."""
        message = inbound.message
        if isinstance(message, Command):
            return True
        return (
            isinstance(message, Event) and inbound.envelope.source != self.service and self.decider.reacts_to(message)
        )

    async def _deployment(self, subject: str, items: Sequence[Inbound]) -> _Step[S]:
        async with self._parallel, self.store.exclusive(subject):
            for _ in range(_CONFLICT_ATTEMPTS):
                current = await self.store.load(subject)
                decider = await self._decider_for(current.state, items)
                step = self._apply(current, items, await self._evicted_outcomes(current, items), decider)
                if not step.changed:
                    # Nothing new; but a publish that failed before (broker down) left the outbox full.
                    await self.outbox.flush(current, by="handler")
                    return step
                if await self.store.save(step.aggregate, read_revision=current.revision):
                    if self.after_state_write is not None:
                        self.after_state_write()
                    for outcome in step.decided:
                        self.outbox.metrics.decided.labels(type=outcome.command_type, outcome=outcome.status).inc()
                    await self.outbox.flush(step.aggregate, by="handler")
                    return step
                log.info("deployment written concurrently; deciding again", deployment_id=subject)
            raise RevisionConflict(f"{subject}: {_CONFLICT_ATTEMPTS} concurrent writes in a row")

    async def _evicted_outcomes(self, aggregate: Aggregate[S], items: Sequence[Inbound]) -> dict[str, Outcome]:
        """Outcomes of this batch's commands that no longer fit in the document (a full list only)."""
        if len(aggregate.recent) < self.store.recent_commands:
            return {}
        kept = {outcome.command_id for outcome in aggregate.recent}
        ids = [i.message.command_id for i in items if isinstance(i.message, Command)]
        return await self.statuses.decided([command_id for command_id in ids if command_id not in kept])

    async def _decider_for(self, state: S, items: Sequence[Inbound]) -> Decider[S, C]:
        if self.decider_for_batch is None:
            return self.decider
        return await self.decider_for_batch(state, [inbound.message for inbound in items])

    def _apply(
        self,
        aggregate: Aggregate[S],
        items: Sequence[Inbound],
        evicted_before: dict[str, Outcome],
        decider: Decider[S, C],
    ) -> _Step[S]:
        state, outbox, recent = aggregate.state, list(aggregate.outbox), list(aggregate.recent)
        positions = dict(aggregate.positions)
        outcomes: list[Outcome] = []
        decided: list[Outcome] = []
        evicted: list[Outcome] = []
        changed = False
        pending_since = aggregate.pending_since

        def run(command: Command, envelope: Envelope, redelivered: bool) -> None:
            nonlocal state, changed, pending_since
            known = next((o for o in recent if o.command_id == command.command_id), None)
            known = known or evicted_before.get(command.command_id)
            if known is not None or redelivered:
                outcomes.extend([known] if known else [])
                return  # it ran before: once is enough
            outcome, envelopes = self._decide(state, command, envelope, decider)
            state = decider.fold(state, (_recorded(e, m) for e, m in envelopes))
            outbox.extend(envelope for envelope, _ in envelopes)
            pending_since = pending_since or envelopes[0][0].time
            recent.append(outcome)
            if len(recent) > self.store.recent_commands:
                evicted.append(recent.pop(0))
            outcomes.append(outcome)
            decided.append(outcome)
            changed = True

        for inbound in items:
            source, offset = f"{inbound.position.topic}#{inbound.position.partition}", inbound.position.offset
            message = inbound.message
            redelivered = positions.get(source, -1) >= offset
            if isinstance(message, Command):
                run(message, inbound.envelope, redelivered)
            elif isinstance(message, Event) and not redelivered:
                recorded = cast(Recorded[Event], inbound.recorded)
                evolved = decider.evolve(state, recorded)
                changed = changed or evolved != state
                state = evolved
                for follow_up in self.follow_ups(state, recorded) if self.follow_ups is not None else ():
                    run(follow_up, inbound.envelope, False)
            positions[source] = max(offset, positions.get(source, -1))
        aggregate = dataclasses.replace(
            aggregate,
            state=state,
            revision=aggregate.revision + 1,
            outbox=tuple(outbox),
            pending_since=pending_since,
            recent=tuple(recent),
            positions=positions,
        )
        return _Step(aggregate, changed, outcomes, decided, evicted)

    def _decide(
        self, state: S, command: Command, envelope: Envelope, decider: Decider[S, C]
    ) -> tuple[Outcome, list[tuple[Envelope, Event]]]:
        now = self.clock()
        with bound(command_id=command.command_id, deployment_id=command.deployment_id):
            decision = self.decision(state, command, now, decider)
            refusal = decision if isinstance(decision, Rejection) else self.refused_by_events(decision)
            if refusal is not None and refusal is not decision:
                log.info("command refused", type=command.type_name, code=refusal.code, reason=refusal.reason)
            if isinstance(decision, Rejection):
                log.info("command rejected", type=command.type_name, code=decision.code, reason=decision.reason)
                events: list[Event] = [
                    CommandRejected(
                        deployment_id=command.deployment_id,
                        command_id=command.command_id,
                        command_type=command.type_name,
                        code=decision.code,
                        reason=decision.reason,
                    )
                ]
            else:
                events = list(decision)
        decided = [
            (
                wrap(
                    event,
                    source=self.service,
                    event_id=derived_id(command.command_id, str(index)),
                    time=now,
                    actor=command.actor.user,
                    correlation_id=envelope.correlationid or command.command_id,
                    causation_id=command.command_id,
                    tenant=envelope.tenant,
                ),
                event,
            )
            for index, event in enumerate(events)
        ]
        ids = tuple(e.id for e, _ in decided)
        outcome = Outcome(
            command_id=command.command_id,
            command_type=command.type_name,
            deployment_id=command.deployment_id,
            status="rejected" if refusal is not None else "completed",
            event_ids=ids,
            code=refusal.code if refusal is not None else None,
            reason=refusal.reason if refusal is not None else None,
            issued_by=command.actor.user,
            decided_at=now,
        )
        return outcome, decided

    def decision(
        self, state: S, command: Command, now: datetime, decider: Decider[S, C] | None = None
    ) -> Sequence[Event] | Rejection:
        """What `command` ends in against `state` at `now`, exactly as the handler would decide it (pure:
        an HTTP edge runs it as a pre-check to refuse at once what is already known to be refused).
        `decider`: the one `decider_for_batch` would build for it; the handler's own by default."""
        decider = decider or self.decider
        if not decider.handles(command):
            return Rejection("unknown-command", f"{self.service} does not handle {command.type_name}")
        try:
            decision = decider.decide(state, cast(C, command), now)
        except Exception as error:
            # decide is pure, so this fails the same way every time: answer the caller rather than retry.
            log.exception("decide failed", type=command.type_name)
            return Rejection(
                "internal-error", f"{self.service} could not decide {command.type_name}: {type(error).__name__}"
            )
        if not isinstance(decision, Rejection) and any(e.subject != command.deployment_id for e in decision):
            log.error("decide produced events about another deployment", type=command.type_name)
            return Rejection(
                "internal-error", f"{self.service} decided events outside deployment {command.deployment_id}"
            )
        if not isinstance(decision, Rejection) and not decision:
            return Rejection("no-change", f"{command.type_name} changes nothing on deployment {command.deployment_id}")
        return decision

    def refused_by_events(self, events: Sequence[Event]) -> Rejection | None:
        """The refusal that decided events record (`refusal_in`), None when they record none."""
        return self.refusal_in(events) if self.refusal_in is not None else None


def _recorded(envelope: Envelope, event: Event) -> Recorded[Event]:
    return Recorded(
        message=event,
        id=envelope.id,
        time=envelope.time,
        subject=envelope.subject,
        actor=envelope.actor,
        correlation_id=envelope.correlationid,
        causation_id=envelope.causationid,
    )


class OutboxSweeper:
    """Publishes what a crash left in outboxes: all of it at its first run (at start, before the
    handler decides anything), afterwards only outboxes older than `grace` (younger ones are being
    published by the handler right now)."""

    def __init__(
        self,
        store: AggregateStore[Any],
        outbox: Outbox,
        *,
        grace: timedelta = timedelta(seconds=30),
        per_query: int = 200,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.grace = grace
        self.per_query = per_query
        self.clock = clock
        self._lock = asyncio.Lock()
        self._swept_at_start = False

    async def swept_at_start(self) -> None:
        """Returns once the first sweep has succeeded (running it if nobody has yet)."""
        if not self._swept_at_start:
            await self.sweep()

    async def sweep(self) -> int:
        """Publish pending outboxes; returns how many events."""
        async with self._lock:
            first = not self._swept_at_start
            cutoff = self.clock() - (timedelta(0) if first else self.grace)
            swept = 0
            # At start everything pending must go, so keep querying while full pages come back
            # (flushed documents leave the query); later, one page per run is enough.
            for _ in range(50 if first else 1):
                found = await self.store.with_pending(self.per_query)
                for listed in found:
                    async with self.store.exclusive(listed.deployment_id):
                        aggregate = await self.store.load(listed.deployment_id)  # as it is now
                        if aggregate.pending_since is not None and aggregate.pending_since > cutoff:
                            continue
                        await self.outbox.flush(aggregate, by="sweeper")
                        swept += len(aggregate.outbox)
                if len(found) < self.per_query:
                    break
            self._swept_at_start = True
        if swept:
            log.warning("published events a crash left pending", events=swept)
        return swept
