"""The actions service's HTTP commands: `POST /deployments` and `POST /deployments/{id}/<action>`.

Each answers 202 with the command id and where to follow it (`Location`), or 400/401/403/404/409
with a reason when the request is bad or already known to be refused (see admission.py), or 422 for
an invalid body.

No `from __future__ import annotations` here: FastAPI must evaluate the route annotations, which
name dependencies and body models local to the router factory.
"""

import dataclasses
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Response

from services.actions.entrypoints.admission import ActionAccepted, ActionsAdmission
from services.actions.entrypoints.api_models import (
    DEPLOYMENT_ID,
    ClearStatisticsBody,
    ImportanceBody,
    NoFields,
    ReasonBody,
    RegisterDeploymentBody,
    RevokeBody,
    SettingsBody,
    ShareBody,
    errors,
)
from shared.contract.commands import actions as cmd
from shared.contract.envelope import derived_id
from shared.contract.messages import Actor
from shared.service.admission import build
from shared.service.command_api import CorrelationId, IdempotencyKey, command_id_from

DeploymentId = Annotated[str, Path(pattern=DEPLOYMENT_ID, description="The deployment id")]
ACCEPTED = {
    202: {
        "description": "Accepted: the command runs in the background; follow `status_url`",
        "headers": {"Location": {"description": "Where to follow the command", "schema": {"type": "string"}}},
    }
}


@dataclasses.dataclass(frozen=True)
class Action:
    path: str
    command: type[cmd.ActionsCommand]
    body: type[Any]
    summary: str
    description: str
    body_required: bool = False


ACTIONS = (
    Action("activate", cmd.ActivateDeployment, NoFields, "Activate", "Ends in `DeploymentActivated`."),
    Action(
        "deactivate",
        cmd.DeactivateDeployment,
        ReasonBody,
        "Deactivate",
        "Ends in `DeploymentDeactivated`, or opens a change request on a deployment whose importance needs "
        "approval (`change_request_id`).",
    ),
    Action(
        "delete",
        cmd.DeleteDeployment,
        ReasonBody,
        "Delete (soft)",
        "Ends in `DeploymentDeleted`, or opens a change request on a deployment whose importance needs approval. "
        "A deleted deployment can only be erased.",
    ),
    Action(
        "erase",
        cmd.EraseDeployment,
        ReasonBody,
        "Erase permanently (admins, deleted deployments)",
        "Ends in `DeploymentErased`: every projection keeps only a tombstone; the log keeps the events.",
    ),
    Action(
        "importance",
        cmd.ChangeImportance,
        ImportanceBody,
        "Change the importance",
        "Ends in `DeploymentImportanceChanged`; lowering an importance that needs approval opens a change request.",
        body_required=True,
    ),
    Action(
        "settings",
        cmd.ChangeDeploymentSettings,
        SettingsBody,
        "Change label, description or tags",
        "Ends in `DeploymentSettingsChanged` with the fields that change.",
        body_required=True,
    ),
    Action(
        "share",
        cmd.ShareDeployment,
        ShareBody,
        "Share with a user or a group",
        "Grants OWNER, USER or CONSUMER (replacing the role the principal had): ends in `DeploymentShared`. "
        "USERs may share up to USER; granting or changing OWNER needs OWNER.",
        body_required=True,
    ),
    Action(
        "revoke",
        cmd.RevokeAccess,
        RevokeBody,
        "Revoke a principal's role",
        "Ends in `DeploymentAccessRevoked`. The last OWNER cannot be removed.",
        body_required=True,
    ),
    Action(
        "clear-statistics",
        cmd.ClearStatistics,
        ClearStatisticsBody,
        "Clear monitoring statistics",
        "For all time, or [start, end), optionally of one model package: ends in `DeploymentStatisticsCleared`.",
    ),
)


def command_api(admission: ActionsAdmission, actor: Callable[..., Actor]) -> APIRouter:
    router = APIRouter(tags=["actions"])

    @router.post(
        "/deployments",
        status_code=202,
        response_model=ActionAccepted,
        responses={**ACCEPTED, **errors(400, 401, 409)},  # type: ignore[dict-item]
        summary="Register a deployment",
        description="Ends in `DeploymentCreated` (you are its first OWNER); 409 `already-exists` for a known id.",
    )
    async def register_deployment(
        body: RegisterDeploymentBody,
        who: Annotated[Actor, Depends(actor)],
        response: Response,
        idempotency_key: IdempotencyKey = None,
        correlation_id: CorrelationId = None,
    ) -> ActionAccepted:
        command_id = command_id_from(idempotency_key)
        deployment_id = body.id or derived_id(command_id, "deployment")
        fields = body.model_dump(exclude={"id"})
        command = build(cmd.RegisterDeployment, command_id=command_id, deployment_id=deployment_id, actor=who, **fields)
        return await admitted(admission, command, response, idempotency_key, correlation_id)

    for action in ACTIONS:
        _add_action(router, admission, actor, action)
    return router


def _add_action(router: APIRouter, admission: ActionsAdmission, actor: Callable[..., Actor], action: Action) -> None:
    async def run(
        deployment_id: str, who: Actor, body: Any, response: Response, key: str | None, correlation: str | None
    ) -> ActionAccepted:
        command_id = command_id_from(key)
        command = build(action.command, body, command_id=command_id, deployment_id=deployment_id, actor=who)
        return await admitted(admission, command, response, key, correlation)

    Who = Annotated[Actor, Depends(actor)]
    if action.body_required:

        async def route(
            deployment_id: DeploymentId,
            who: Who,
            body: Annotated[action.body, Body()],  # type: ignore[name-defined]
            response: Response,
            idempotency_key: IdempotencyKey = None,
            correlation_id: CorrelationId = None,
        ) -> ActionAccepted:
            return await run(deployment_id, who, body, response, idempotency_key, correlation_id)

    else:

        async def route(  # type: ignore[misc]
            deployment_id: DeploymentId,
            who: Who,
            response: Response,
            body: Annotated[action.body | None, Body()] = None,  # type: ignore[name-defined]
            idempotency_key: IdempotencyKey = None,
            correlation_id: CorrelationId = None,
        ) -> ActionAccepted:
            return await run(deployment_id, who, body, response, idempotency_key, correlation_id)

    router.add_api_route(
        f"/deployments/{{deployment_id}}/{action.path}",
        route,
        methods=["POST"],
        status_code=202,
        response_model=ActionAccepted,
        responses={**ACCEPTED, **errors(400, 401, 403, 404, 409)},  # type: ignore[dict-item]
        summary=action.summary,
        description=action.description,
        operation_id=f"{action.path.replace('-', '_')}_deployment",
    )


async def admitted(
    admission: ActionsAdmission,
    command: cmd.ActionsCommand,
    response: Response,
    idempotency_key: str | None,
    correlation_id: str | None,
) -> ActionAccepted:
    submitted, expected = await admission.admit(
        command, correlation_id=correlation_id, resent_possible=idempotency_key is not None
    )
    accepted = ActionAccepted.of(submitted, expected)
    response.headers["Location"] = accepted.status_url
    return accepted
