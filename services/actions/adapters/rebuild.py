"""What the actions service keeps from the log, for `lifecycle replay actions` (shared.storage.rebuild):
each deployment's state, folded from the events of the deployment topic by the pure `evolve`
(shared.storage.refold); no command is decided again."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.actions.adapters.store import DEPLOYMENTS, DeploymentDocuments
from services.actions.bootstrap import policy_of
from services.actions.domain.decider import decider_for
from services.actions.domain.state import DeploymentState
from services.actions.entrypoints.subscribers import actions_registry
from services.actions.settings import ActionsSettings
from shared.storage.mongo import Document
from shared.storage.rebuild import Rebuild, Sink, Target
from shared.storage.refold import AggregateRefold


def _comparable(document: Document) -> Any:
    # The state only: the outbox, the command outcomes, `_rev` and `_applied` are the command side's
    # bookkeeping (refold carries them over); `reviews_open` derives from the state.
    return DeploymentState.model_validate(document["state"]).model_dump(mode="json")


def rebuild(settings: ActionsSettings) -> Rebuild:
    decider = decider_for(policy_of(settings))

    async def open_sink(db: AsyncDatabase[Document], name: str) -> Sink:
        store = DeploymentDocuments(db[name], DeploymentState, DeploymentState.initial)
        return AggregateRefold(store, decider, settings.service_name, db[DEPLOYMENTS])

    deployments = Target(DEPLOYMENTS, (settings.topics.deployment_events,), open_sink, _comparable)
    return Rebuild(
        settings.service_name,
        settings.mongo.url,
        settings.mongo.database,
        settings.kafka.bootstrap_servers,
        actions_registry(),
        (deployments,),
    )
