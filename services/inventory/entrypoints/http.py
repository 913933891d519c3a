"""The inventory's HTTP read API: list, summary, one deployment, its model history and audit trail."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.inventory.adapters.query import BadQuery, parse_list_query
from services.inventory.adapters.store import InventoryStore
from services.inventory.domain.access import Caller, readable
from services.inventory.domain.state import HEALTH_DIMENSIONS, DeploymentView
from services.inventory.domain.summary import Tiles
from services.inventory.domain.trail import KEEP, KEEP_HEALTH, audit
from services.inventory.entrypoints.api_models import (
    AuditEntryOut,
    DeploymentOut,
    DeploymentPage,
    HealthTile,
    ModelHistoryOut,
    Summary,
    list_parameters,
)
from services.inventory.settings import InventorySettings
from shared.contract.events.values import DeploymentStatus
from shared.service.logging import get_logger
from shared.service.problems import READ, errors

log = get_logger(__name__)

DeploymentId = Annotated[
    str,
    # No control characters: FerretDB over PostgreSQL fails a query holding NUL (SQLSTATE 22P05), a 500.
    Path(pattern=r"^[^\x00-\x1f\x7f]{1,256}$", description="The deployment's id"),
]


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
        description=(
            "Comma-separated values mean OR within a parameter and AND across parameters. "
            "On MongoDB the default sort and the common filters use compound indexes. On the local default "
            "(FerretDB v1 on PostgreSQL) filters, sort and limit run over the whole collection in FerretDB: "
            "measured 2.4 to 5 ms per deployment (24 s at 10,000, 496 s at 100,000 on a loaded 2-core machine; "
            "3 s at 1,000), so it answers interactively only up to a few hundred deployments; use MongoDB for a fleet."
        ),
        # The parameters are parsed from the raw query (repeats, comma lists, unknown names refused),
        # so they are described here for the OpenAPI document rather than declared one by one.
        openapi_extra={"parameters": list_parameters()},
        responses=errors(400, 401),
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
            data=[DeploymentOut.of(view, now) for view in views],
            next_offset=query.offset + query.limit if query.offset + query.limit < total else None,
        )

    @router.get(
        "/summary",
        response_model=Summary,
        responses=errors(401),
        summary="Summary tiles over the deployments you can see",
    )
    async def summary(who: CallerDep) -> Summary:
        return summary_of(await store.summary(who))

    @router.get("/{deployment_id}", response_model=DeploymentOut, responses=READ)
    async def get_deployment(deployment_id: DeploymentId, who: CallerDep) -> DeploymentOut:
        return DeploymentOut.of(await _readable(deployment_id, who), datetime.now(UTC))

    @router.get("/{deployment_id}/model-history", response_model=list[ModelHistoryOut], responses=READ)
    async def model_history(deployment_id: DeploymentId, who: CallerDep) -> list[ModelHistoryOut]:
        view = await _readable(deployment_id, who)
        return [ModelHistoryOut.of(entry) for entry in view.model_history]

    @router.get(
        "/{deployment_id}/audit",
        response_model=list[AuditEntryOut],
        responses=READ,
        summary="The deployment's audit trail, oldest first",
        description=(
            f"From the inventory's own projection (no read of the log): the latest {KEEP} events of the deployment "
            f"and the changes of each health dimension's status among its latest {KEEP_HEALTH} reports, oldest "
            "first by event time then event id, each event once. Predictions are not listed. Erasure leaves none."
        ),
    )
    async def audit_trail(deployment_id: DeploymentId, who: CallerDep) -> list[AuditEntryOut]:
        view = await _readable(deployment_id, who)
        return [AuditEntryOut.of(item) for item in audit(view.trail)]

    async def _readable(deployment_id: str, who: Caller) -> DeploymentView:
        view = await store.get(deployment_id)
        # Not found and not allowed look the same, so ids cannot be probed.
        if view is None or not readable(who, view):
            raise HTTPException(404, f"deployment {deployment_id!r} not found")
        return view

    return router


def summary_of(tiles: Tiles) -> Summary:
    return Summary(
        deployments=tiles.deployments,
        active_deployments=tiles.with_status(DeploymentStatus.ACTIVE),
        inactive_deployments=tiles.with_status(DeploymentStatus.INACTIVE),
        by_status=tiles.by_status(),
        predictions=tiles.predictions,
        **{dimension: HealthTile(**tiles.health(dimension)) for dimension in HEALTH_DIMENSIONS},
    )
