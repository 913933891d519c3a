"""A full recount of the summary tiles, straight from the deployment documents, to hold the
maintained counters to.

The recount reads the stored fields itself (status, access, health, predictions) and shares no code
with the counters or the inventory's summary module, so the two can disagree.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.inventory.adapters.store import COLLECTION, InventoryStore
from services.inventory.domain.access import Caller
from services.inventory.domain.state import DeploymentView
from services.inventory.entrypoints.http import summary_of
from shared.storage.layout import unpacked
from shared.storage.mongo import Document

CALLERS = {
    "admin": Caller(user="admin", admin=True),
    "alice": Caller(user="alice"),
    "bob with ml-team": Caller(user="bob", groups=("ml-team",)),
    "carol": Caller(user="carol"),
    "dave, a consumer": Caller(user="dave"),
}
"""Callers every check covers: an admin, users, a user seeing through a group, a consumer."""

_DIMENSIONS = ("service", "drift", "accuracy", "fairness")
_HEALTH = ("passing", "warning", "failing", "unknown", "unavailable")


async def recount(db: AsyncDatabase[Document], caller: Caller, collection: str = COLLECTION) -> dict[str, Any]:
    """The summary `caller` must get: every listed deployment it may see, counted one by one."""
    by_status: Counter[str] = Counter()
    health = {dimension: Counter[str]() for dimension in _DIMENSIONS}
    predictions = 0
    async for document in db[collection].find({}):
        view = unpacked(DeploymentView, document)
        if not view.created or view.status in (None, "deleted", "erased"):
            continue
        seeing = {grant.principal for grant in view.access if grant.role in ("OWNER", "USER")}
        if not caller.admin and not seeing & set(caller.principals):
            continue
        by_status[str(view.status)] += 1
        predictions += view.predictions.total
        for dimension in _DIMENSIONS:
            health[dimension][str(getattr(view.health, dimension).status)] += 1
    return {
        "deployments": sum(by_status.values()),
        "active_deployments": by_status["active"],
        "inactive_deployments": by_status["inactive"],
        "by_status": dict(by_status),
        "predictions": predictions,
        **{dimension: {status: health[dimension][status] for status in _HEALTH} for dimension in _DIMENSIONS},
    }


async def counted(db: AsyncDatabase[Document], caller: Caller, collection: str = COLLECTION) -> dict[str, Any]:
    """The summary as the endpoint serves it, from the maintained counters."""
    return summary_of(await InventoryStore(db, collection).summary(caller)).model_dump()


async def assert_counters_exact(db: AsyncDatabase[Document], collection: str = COLLECTION) -> None:
    for name, caller in CALLERS.items():
        expected = await recount(db, caller, collection)
        got = await counted(db, caller, collection)
        assert got == expected, f"summary of {name}: counted {got}, recounted {expected}"
