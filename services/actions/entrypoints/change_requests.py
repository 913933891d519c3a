"""Change requests over HTTP: list a deployment's, and approve, reject or cancel one.

Reviews are commands like any other (202, pre-checked, decided in order with the deployment's other
commands); the requester cannot approve their own request (403 `self-approval`), only the requester may
cancel it (403 `not-requester`).

No `from __future__ import annotations` here: FastAPI evaluates the route annotations.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response

from services.actions.domain.state import ChangeRequestStatus
from services.actions.entrypoints.admission import ActionAccepted, ActionsAdmission
from services.actions.entrypoints.api_models import CHANGE_REQUEST_ID, ChangeRequestOut, NoFields, ReviewBody, errors
from services.actions.entrypoints.http import ACCEPTED, DeploymentId, admitted
from shared.contract.commands import actions as cmd
from shared.contract.events.values import Role
from shared.contract.messages import Actor
from shared.domain.roles import has_role
from shared.service.admission import Refused, build
from shared.service.command_api import CorrelationId, IdempotencyKey, command_id_from

ChangeRequestId = Annotated[str, Path(pattern=CHANGE_REQUEST_ID, description="The change request id")]
REVIEWS: tuple[tuple[str, type[cmd.ApproveChangeRequest | cmd.RejectChangeRequest], str, str], ...] = (
    (
        "approve",
        cmd.ApproveChangeRequest,
        "Approve a change request",
        "Another OWNER or an admin approves: ends in `ChangeRequestApproved` and the events of the held command, "
        "run against the deployment as it is then (or its refusal, `held-command-refused`).",
    ),
    (
        "reject",
        cmd.RejectChangeRequest,
        "Reject a change request",
        "Another OWNER or an admin rejects: ends in `ChangeRequestRejected`; the held command never runs.",
    ),
)


def change_request_api(admission: ActionsAdmission, actor: Callable[..., Actor]) -> APIRouter:
    router = APIRouter(prefix="/deployments/{deployment_id}/change-requests", tags=["change requests"])
    store = admission.store

    @router.get(
        "",
        response_model=list[ChangeRequestOut],
        responses=errors(401, 403, 404),
        summary="A deployment's change requests",
        description="Open ones and the most recently closed ones, in the order they were opened; OWNERs, USERs "
        "and admins may read them.",
    )
    async def list_change_requests(
        deployment_id: DeploymentId,
        who: Annotated[Actor, Depends(actor)],
        status: Annotated[ChangeRequestStatus | None, Query(description="Only those in this status")] = None,
    ) -> list[ChangeRequestOut]:
        state = (await store.load(deployment_id)).state
        if not state.exists or state.erased:
            raise Refused(404, f"deployment {deployment_id} is not known", "not-found")
        if not has_role(state, who, Role.USER):
            raise Refused(403, f"{who.user} has no role on deployment {deployment_id} that may read it", "forbidden")
        return [ChangeRequestOut.of(r) for r in state.change_requests if status is None or r.status is status]

    for verb, command_type, summary, description in REVIEWS:
        _add_review(router, admission, actor, verb, command_type, summary, description)

    @router.post(
        "/{change_request_id}/cancel",
        status_code=202,
        response_model=ActionAccepted,
        responses={**ACCEPTED, **errors(400, 401, 403, 404, 409)},  # type: ignore[dict-item]
        summary="Cancel your change request",
        description="The requester withdraws it: ends in `ChangeRequestCanceled`.",
    )
    async def cancel_change_request(
        deployment_id: DeploymentId,
        change_request_id: ChangeRequestId,
        who: Annotated[Actor, Depends(actor)],
        response: Response,
        body: Annotated[NoFields | None, Body()] = None,
        idempotency_key: IdempotencyKey = None,
        correlation_id: CorrelationId = None,
    ) -> ActionAccepted:
        command = build(
            cmd.CancelChangeRequest,
            command_id=command_id_from(idempotency_key),
            deployment_id=deployment_id,
            actor=who,
            change_request_id=change_request_id,
        )
        return await admitted(admission, command, response, idempotency_key, correlation_id)

    return router


def _add_review(
    router: APIRouter,
    admission: ActionsAdmission,
    actor: Callable[..., Actor],
    verb: str,
    command_type: type[cmd.ApproveChangeRequest | cmd.RejectChangeRequest],
    summary: str,
    description: str,
) -> None:
    async def review(
        deployment_id: DeploymentId,
        change_request_id: ChangeRequestId,
        who: Annotated[Actor, Depends(actor)],
        response: Response,
        body: Annotated[ReviewBody | None, Body()] = None,
        idempotency_key: IdempotencyKey = None,
        correlation_id: CorrelationId = None,
    ) -> ActionAccepted:
        command = build(
            command_type,
            body,
            command_id=command_id_from(idempotency_key),
            deployment_id=deployment_id,
            actor=who,
            change_request_id=change_request_id,
        )
        return await admitted(admission, command, response, idempotency_key, correlation_id)

    router.add_api_route(
        f"/{{change_request_id}}/{verb}",
        review,
        methods=["POST"],
        status_code=202,
        response_model=ActionAccepted,
        responses={**ACCEPTED, **errors(400, 401, 403, 404, 409)},  # type: ignore[dict-item]
        summary=summary,
        description=description,
        operation_id=f"{verb}_change_request",
    )
