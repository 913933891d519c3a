"""A command side's documents rebuilt from the log: the events of its topics folded by its pure `evolve`;
no command is decided again and nothing is published.

How the live handler forms a document (shared.service.commands), and how the rebuild mirrors it:
- the service's own events (envelope source = the service) are folded when they are decided, and dropped
  when they come back from the log. Here they are folded where they stand in the log, once per event id:
  the outbox, and the sweeper after a crash, may publish one twice under the same id.
- other events the decider reacts to are folded at every delivery that is not an offset applied already:
  an upstream that publishes an event twice (same id, new offset) has it folded twice, live and here.
- a document is written when a fold changed the state or a command was decided (a command rejected for
  an unknown deployment leaves a document in the initial state): here, when a fold changed the state or
  one of the service's own events (the trace of every decision, CommandRejected included) was read.
- the order: live, each partition's records in offset order, own events at their decision. Here the
  events are read whole first, then each deployment's partitions are merged by Kafka timestamp (`_fold`).
So the rebuild equals the live state once the service has settled (no outbox pending), provided one
deployment's own and upstream events commute where they raced (the service decided while an upstream
event of that deployment was still unread, or a producer spread them over partitions): an order-dependent
fold then differs, and the difference is that race, worth an operator's look.

The command side's bookkeeping is no fold of the events: the recent command outcomes (a re-sent command
runs once) are carried over from the live document, and the applied offsets are the live ones raised to
what the rebuild read, so that after a switch nothing runs twice and nothing folded is folded again.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any, Generic, cast

from pymongo.asynchronous.collection import AsyncCollection

from shared.contract.messages import Event
from shared.domain.decider import Decider
from shared.domain.recorded import Recorded
from shared.messaging.consumer import Inbound
from shared.storage.aggregates import Aggregate, AggregateStore, S
from shared.storage.backend import backend_of
from shared.storage.mongo import Document
from shared.storage.revisions import positions_field, positions_of


class AggregateRefold(Generic[S]):
    """Folds a batch at a time in memory; `finish` writes the documents, in the store's own shape, into
    the store's collection (a new one), carrying the bookkeeping of `live` over."""

    def __init__(
        self, store: AggregateStore[S], decider: Decider[S, Any], service: str, live: AsyncCollection[Document]
    ) -> None:
        self.store = store
        self.decider = decider
        self.service = service
        self.live = live
        self._read: dict[str, dict[str, list[Inbound]]] = {}
        """Subject -> source partition -> its events, in offset order."""
        self._positions: dict[str, dict[str, int]] = {}

    async def apply(self, batch: Sequence[Inbound]) -> int:
        """Collects the events (folded by `finish`); idempotent, as replay may re-invoke it on part of a batch."""
        taken = 0
        for inbound in batch:
            if not isinstance(inbound.message, Event):
                continue  # commands are never decided again: their events are in the log
            position = inbound.position
            source = f"{position.topic}#{position.partition}"
            positions = self._positions.setdefault(inbound.envelope.subject, {})
            if positions.get(source, -1) >= position.offset:
                continue
            positions[source] = position.offset
            self._read.setdefault(inbound.envelope.subject, {}).setdefault(source, []).append(inbound)
            taken += 1
        return taken

    def _fold(self, subject: str) -> tuple[S, bool]:
        """The subject's state, and whether the live handler wrote a document for it.

        Each partition's events stay in offset order; partitions are interleaved by Kafka timestamp (when
        each record was produced: the service's own events right after their decision, upstream ones just
        before the live consumer read them), not by event time, which a producer or a test clock may set
        anywhere. The live consumer interleaves partitions as its fetches return them, so a deployment whose
        order-dependent events are spread over partitions may differ: that is the race."""
        state, written, own_folded = self.store.initial(subject), False, set[str]()
        ordered = heapq.merge(*self._read[subject].values(), key=lambda item: item.position.timestamp_ms)
        for inbound in ordered:
            envelope = inbound.envelope
            own = envelope.source == self.service
            if own and envelope.id in own_folded:
                continue  # published again by the outbox: folded once, when it was decided
            if not own and not self.decider.reacts_to(cast(Event, inbound.message)):
                continue
            evolved = self.decider.evolve(state, cast(Recorded[Event], inbound.recorded))
            if own:
                own_folded.add(envelope.id)
            written = written or own or evolved != state
            state = evolved
        return state, written

    async def finish(self) -> None:
        folded = {subject: self._fold(subject) for subject in sorted(self._read)}
        subjects = [subject for subject, (_, written) in folded.items() if written]
        backend = await backend_of(self.live.database.client)
        live = await backend.find_by_ids(self.live, subjects, {"commands": 1, "_applied": 1})
        documents: list[Document] = []
        for subject in subjects:
            previous = live.get(subject)
            positions = positions_of(previous)
            for source, offset in self._positions[subject].items():
                positions[source] = max(offset, positions.get(source, -1))
            aggregate = Aggregate(subject, folded[subject][0], revision=1, positions=positions)
            # The store's own document shape (its derived fields: reviews_open, wake_at...), so that the
            # live service reads and guards it as one it wrote itself.
            document = self.store._document(aggregate)
            document["_applied"] = positions_field(positions)
            document["commands"] = (previous or {}).get("commands") or []
            documents.append(document)
        for chunk in backend.chunks(documents):
            await self.store.collection.insert_many(list(chunk), ordered=False)
