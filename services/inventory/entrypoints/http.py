"""The inventory's HTTP read API: list, summary, one deployment and its model history."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.inventory.adapters.query import PARAMETER_HELP, BadQuery, Caller, parse_list_query
from services.inventory.adapters.store import InventoryStore
from services.inventory.domain.state import HEALTH_DIMENSIONS, DeploymentView
from services.inventory.entrypoints.api_models import (
    DailyCount,
    DeploymentOut,
    DeploymentPage,
    HealthTile,
    ModelHistoryOut,
    Summary,
)
from services.inventory.settings import InventorySettings
from shared.contract.events.values import DeploymentStatus, HealthStatus
from shared.service.logging import get_logger

log = get_logger(__name__)


def read_api(store: InventoryStore, settings: InventorySettings) -> APIRouter:
    router = APIRouter(prefix="/deployments", tags=["inventory"])
    bearer = HTTPBearer(auto_error=False)

    def caller(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
        user = settings.api_tokens.get(credentials.credentials) if credentials else None
        if user is None:
            raise HTTPException(401, "missing or unknown bearer token", headers={"WWW-Authenticate": "Bearer"})
        return Caller(user=user.user, groups=user.groups, admin=user.admin)

    CallerDep = Annotated[Caller, Depends(caller)]

    @router.get(
        "",
        response_model=DeploymentPage,
        summary="List, search, filter and sort deployments",
        description="Comma-separated values mean OR within a parameter and AND across parameters.",
        # The parameters are parsed from the raw query (repeats, comma lists, unknown names refused),
        # so they are described here for the OpenAPI document rather than declared one by one.
        openapi_extra={
            "parameters": [
                {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": text}
                for name, text in PARAMETER_HELP.items()
            ]
        },
    )
    async def list_deployments(request: Request, who: CallerDep) -> DeploymentPage:
        params = {key: request.query_params.getlist(key) for key in request.query_params}
        try:
            query = parse_list_query(params, who)
        except BadQuery as exc:
            raise HTTPException(400, str(exc)) from None
        total, views = await store.page(query)
        now = datetime.now(UTC)
        return DeploymentPage(
            count=total,
            offset=query.offset,
            limit=query.limit,
            data=[to_output(view, now) for view in views],
            next_offset=query.offset + query.limit if query.offset + query.limit < total else None,
        )

    @router.get("/summary", response_model=Summary, summary="Summary tiles over the deployments you can see")
    async def summary(who: CallerDep) -> Summary:
        rows, predictions = await store.summary(who)
        return fold_summary(rows, predictions)

    @router.get("/{deployment_id}", response_model=DeploymentOut)
    async def get_deployment(deployment_id: str, who: CallerDep) -> DeploymentOut:
        return to_output(await _visible(deployment_id, who), datetime.now(UTC))

    @router.get("/{deployment_id}/model-history", response_model=list[ModelHistoryOut])
    async def model_history(deployment_id: str, who: CallerDep) -> list[ModelHistoryOut]:
        view = await _visible(deployment_id, who)
        return [ModelHistoryOut.model_validate(entry.model_dump()) for entry in view.model_history]

    async def _visible(deployment_id: str, who: Caller) -> DeploymentView:
        view = await store.get(deployment_id)
        # Not found and not allowed look the same, so ids cannot be probed.
        if view is None or not view.created or view.status is DeploymentStatus.ERASED or not can_see(view, who):
            raise HTTPException(404, f"deployment {deployment_id!r} not found")
        return view

    return router


def can_see(view: DeploymentView, who: Caller) -> bool:
    return who.admin or any(p in view.owners or p in view.users for p in who.principals)


def to_output(view: DeploymentView, now: datetime) -> DeploymentOut:
    today = now.date()
    last_7 = [today - timedelta(days=back) for back in range(6, -1, -1)]
    daily = view.predictions.daily
    age = (now - view.model_deployed_at).total_seconds() / 86_400 if view.model_deployed_at else None
    return DeploymentOut.model_validate(
        {
            **view.model_dump(exclude={"model_history", "label_sort", "importance_rank", "tag_terms", "created"}),
            "id": view.deployment_id,
            "model_age_days": round(age, 3) if age is not None else None,
            "predictions_last_7_days": [DailyCount(date=day, count=daily.get(day.isoformat(), 0)) for day in last_7],
        }
    )


def fold_summary(rows: list[dict[str, Any]], predictions: int) -> Summary:
    by_status: Counter[str] = Counter()
    health: dict[str, Counter[str]] = {d: Counter() for d in HEALTH_DIMENSIONS}
    for row in rows:
        key, count = row["_id"], row["count"]
        by_status[key.get("status") or "unknown"] += count
        for dimension in HEALTH_DIMENSIONS:
            health[dimension][key.get(dimension) or HealthStatus.UNKNOWN.value] += count
    return Summary(
        deployments=sum(by_status.values()),
        active_deployments=by_status[DeploymentStatus.ACTIVE.value],
        inactive_deployments=by_status[DeploymentStatus.INACTIVE.value],
        by_status=dict(by_status),
        predictions=predictions,
        **{d: HealthTile(**{s.value: health[d][s.value] for s in HealthStatus}) for d in HEALTH_DIMENSIONS},
    )
