"""What the retraining service keeps from the log, for `lifecycle replay retraining`
(shared.storage.rebuild): each deployment's state, folded from the events of the deployment,
monitoring and training-jobs topics by the pure `evolve` (shared.storage.refold); no command is decided
again and the scheduler sends nothing. Health reports are read from the log when needed, not stored."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.retraining.adapters.store import DEPLOYMENTS, RetrainingDocuments
from services.retraining.domain.decider import decider_for
from services.retraining.domain.state import RetrainingState
from services.retraining.entrypoints.subscribers import SUBSCRIBED, retraining_registry
from services.retraining.settings import RetrainingSettings
from shared.contract.topology import Stream
from shared.storage.mongo import Document
from shared.storage.rebuild import Rebuild, Sink, Target
from shared.storage.refold import AggregateRefold


def _comparable(document: Document) -> Any:
    # The state only: outbox, command outcomes, `_rev` and `_applied` are bookkeeping (refold carries them
    # over); `wake_at` derives from the state and `wake_slot` also from the minute it was written in.
    return RetrainingState.model_validate(document["state"]).model_dump(mode="json")


def rebuild(settings: RetrainingSettings) -> Rebuild:
    rules = settings.rules.rules()
    decider = decider_for(rules)

    async def open_sink(db: AsyncDatabase[Document], name: str) -> Sink:
        store = RetrainingDocuments(db[name], rules)
        return AggregateRefold(store, decider, settings.service_name, db[DEPLOYMENTS])

    topics = tuple(settings.topics.for_stream(s) for s in SUBSCRIBED if s is not Stream.RETRAINING_COMMANDS)
    deployments = Target(DEPLOYMENTS, topics, open_sink, _comparable)
    return Rebuild(
        settings.service_name,
        settings.mongo.url,
        settings.mongo.database,
        settings.kafka.bootstrap_servers,
        retraining_registry(),
        (deployments,),
    )
