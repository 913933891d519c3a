"""The actions service's HTTP commands: each answers 202 with the command id and where to follow it.

No `from __future__ import annotations` here: FastAPI must evaluate the route annotations, which
name dependencies local to the router factory."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.contract.commands.actions import RegisterDeployment
from shared.contract.envelope import derived_id
from shared.contract.events.values import Importance, ModelPackageRef, PredictionEnvironment, Tag
from shared.contract.messages import Actor
from shared.service.command_api import (
    Accepted,
    CommandGateway,
    CorrelationId,
    IdempotencyConflict,
    IdempotencyKey,
    command_id_from,
)

DEPLOYMENT_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
Principal = Annotated[str, Field(min_length=1, max_length=256)]


class RegisterDeploymentBody(BaseModel):
    """A deployment no serving platform announced. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        default=None,
        pattern=DEPLOYMENT_ID,
        description="The deployment id; generated (and the same for a repeated Idempotency-Key) when absent",
    )
    label: str = Field(min_length=1, max_length=512)
    description: str = Field(default="", max_length=10_000)
    importance: Importance = Importance.MODERATE
    model_package: ModelPackageRef
    prediction_environment: PredictionEnvironment
    owners: list[Principal] = Field(default_factory=list, max_length=100, description="OWNERs besides you")
    tags: list[Tag] = Field(default_factory=list, max_length=100)


ERRORS = {
    400: {"description": "A malformed Idempotency-Key"},
    401: {"description": "No known bearer token"},
    409: {"description": "The Idempotency-Key was used for another command"},
    422: {"description": "The body is not a valid request; `detail` says where and why"},
}


def command_api(gateway: CommandGateway, actor: Callable[..., Actor]) -> APIRouter:
    router = APIRouter(tags=["actions"])

    @router.post(
        "/deployments",
        status_code=202,
        response_model=Accepted,
        responses=ERRORS,  # type: ignore[arg-type]
        summary="Register a deployment",
        description="Ends in `DeploymentCreated`, or a rejection with code `already-exists` when the id is known.",
    )
    async def register_deployment(
        body: RegisterDeploymentBody,
        who: Annotated[Actor, Depends(actor)],
        response: Response,
        idempotency_key: IdempotencyKey = None,
        correlation_id: CorrelationId = None,
    ) -> Accepted:
        command_id = command_id_from(idempotency_key)
        command = RegisterDeployment(
            command_id=command_id,
            deployment_id=body.id or derived_id(command_id, "deployment"),
            actor=who,
            **body.model_dump(exclude={"id"}),
        )
        try:
            accepted = await gateway.submit(command, correlation_id=correlation_id)
        except IdempotencyConflict as exc:
            raise HTTPException(409, str(exc)) from None
        response.headers["Location"] = accepted.status_url
        return accepted

    return router
