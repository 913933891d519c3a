"""A deployment's recorded health reports (DriftDetected, AccuracyChanged), read back from the monitoring
topic for the policy backtest.

The log is read from its beginning up to the end it had when reading started (shared.messaging.reader:
no consumer group, nothing committed, the live consumers undisturbed), in each partition's order, which
is the order the live service folded them in. Records are kept by their CloudEvents subject, not their
Kafka key, as the live handler groups them (a producer may get the key wrong, or send none); only the
subject and type are looked at before a record's payload is validated. Records no consumer can read are
left out, as the live consumer dead-letters them.

The cost is a read of the whole topic per backtest: fine for the topic sizes a retention of weeks gives a
demo or a test; a production monitoring topic would want an index of reports per deployment.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from shared.contract.envelope import InvalidMessage, from_record, open_envelope
from shared.contract.events.monitoring import AccuracyChanged, DriftDetected
from shared.contract.messages import Event, MessageRegistry
from shared.domain.recorded import Recorded
from shared.messaging.reader import read_batches

REPORT_TYPES = frozenset({DriftDetected.type_name, AccuracyChanged.type_name})


@dataclasses.dataclass(frozen=True, slots=True)
class Reports:
    reports: list[Recorded[Event]]
    records_read: int


async def health_reports(
    bootstrap_servers: str, topic: str, registry: MessageRegistry, deployment_id: str, *, before: datetime
) -> Reports:
    """The deployment's drift and accuracy reports with an event time before `before`, in log order."""
    found: list[Recorded[Event]] = []
    read = 0
    async for batch in read_batches(bootstrap_servers, [topic]):
        read += len(batch)
        for record in batch:
            try:
                envelope = from_record(record.value, list(record.headers))
                if envelope.subject != deployment_id or envelope.type not in REPORT_TYPES or envelope.time >= before:
                    continue
                message = open_envelope(envelope, registry)
            except InvalidMessage:
                continue
            if not isinstance(message, DriftDetected | AccuracyChanged):
                continue
            found.append(
                Recorded(
                    message=message,
                    id=envelope.id,
                    time=envelope.time,
                    subject=envelope.subject,
                    actor=envelope.actor,
                    correlation_id=envelope.correlationid,
                    causation_id=envelope.causationid,
                )
            )
    return Reports(found, read)
