"""The replacement service's HTTP API.

    POST   /deployments/{id}/model:validate                 dry run, answered at once (200)
    POST   /deployments/{id}/model:replace                  202 + command id
    POST   /deployments/{id}/model:rollback                 202
    POST   /deployments/{id}/challengers                    202 (with the challenger's id to be)
    DELETE /deployments/{id}/challengers/{challenger_id}    202
    POST   /deployments/{id}/challengers/{challenger_id}:promote   202
    GET    /deployments/{id}/model-history                  champion, challengers, history, change requests

Commands answer 202 with the command id and where to follow it (`Location`), or 400/401/403/404/409
with a code and a reason when already known to be refused (see admission.py), or 422 for an invalid
body. `GET /commands/{id}` is the kit's.

No `from __future__ import annotations` here: FastAPI must evaluate the route annotations.
"""

import functools
from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from services.replacement.entrypoints.admission import ReplacementAdmission
from services.replacement.entrypoints.api_models import (
    CHALLENGER_ID,
    DEPLOYMENT_ID,
    AddChallengerBody,
    DryRunOut,
    ModelHistoryOut,
    PromoteBody,
    ReplaceBody,
    ReplacementAccepted,
    RollbackBody,
    ValidateBody,
    ValidationOut,
    errors,
)
from shared.contract import events as ev
from shared.contract.commands import replacement as cmd
from shared.contract.messages import Actor, Event
from shared.service.admission import Submission, submissions
from shared.service.routing import SEGMENT

DeploymentId = Annotated[str, Path(pattern=DEPLOYMENT_ID, description="The deployment id")]
ChallengerId = Annotated[str, Path(pattern=CHALLENGER_ID, description="The challenger id")]
ACCEPTED = {
    202: {
        "description": "Accepted: the command runs in the background; follow `status_url`",
        "headers": {"Location": {"description": "Where to follow the command", "schema": {"type": "string"}}},
    }
}
COMMAND_ERRORS = errors(400, 401, 403, 404, 409)
HELD = (
    " On a deployment whose importance needs approval (HIGH, CRITICAL by default) it opens a change request "
    "instead (`change_request_id`), reviewed through the actions service; once approved, it runs against the "
    "deployment as it is then."
)


def replacement_api(admission: ReplacementAdmission, actor: Callable[..., Actor]) -> APIRouter:
    router = APIRouter(prefix="/deployments/{deployment_id}", tags=["replacement"])
    Who = Annotated[Actor, Depends(actor)]

    Submitted = Annotated[Submission, Depends(submissions(admission, actor))]

    async def admitted(at: Submission, command: cmd.ReplacementCommand) -> ReplacementAccepted:
        accepted, expected = await at.admit(command)
        return ReplacementAccepted(**accepted.model_dump(), **_expected(expected))

    command_route = functools.partial(
        router.api_route,
        status_code=202,
        response_model=ReplacementAccepted,
        responses={**ACCEPTED, **COMMAND_ERRORS},  # type: ignore[dict-item]
    )

    @router.post(
        "/model:validate",
        response_model=DryRunOut,
        responses=errors(400, 401, 404, 409),
        summary="Validate a replacement (dry run)",
        description="Checks a registered model package against the deployment's current model and answers at once: "
        "`passing` or `warning` may replace it, `failing` may not, with each named check's status and message "
        "(target name, type and classes, feature data types, features, series type, prediction intervals, not "
        "the current model nor a challenger, package ready, permission, deployment state). Nothing changes; the "
        "outcome is recorded for auditors (`ModelReplacementValidated`, by the command `command_id`). OWNERs, "
        "USERs and admins may validate; only OWNERs and admins pass the permission check.",
    )
    async def validate_replacement(deployment_id: DeploymentId, body: ValidateBody, at: Submitted) -> DryRunOut:
        validation = await admission.dry_run(deployment_id, body.model_package_id, at.who)
        recorded = await admission.submit(at.command(cmd.ValidateReplacement, deployment_id, body), at.correlation_id)
        at.response.headers["Location"] = recorded.status_url
        return DryRunOut(
            **ValidationOut.of(deployment_id, validation).model_dump(),
            command_id=recorded.command_id,
            status_url=recorded.status_url,
        )

    @command_route(
        "/model:replace",
        methods=["POST"],
        summary="Replace the model",
        description="Makes a registered model package the champion, with a reason. Validated again when it runs: "
        "`passing` or `warning` ends in `ModelReplaced` (with the checks), `failing` in `ModelReplacementRejected` "
        "(the command's status is then `rejected`, code `checks-failing`). OWNERs and admins only." + HELD,
    )
    async def replace_model(deployment_id: DeploymentId, body: ReplaceBody, at: Submitted) -> ReplacementAccepted:
        return await admitted(at, at.command(cmd.ReplaceModel, deployment_id, body))

    @command_route(
        "/model:rollback",
        methods=["POST"],
        summary="Roll back to the previous model",
        description="Back to the champion before the current one in one step, through the same checks, with a "
        "reason; rolling back again walks further back in the history (409 `nothing-to-roll-back` at its "
        "start)." + HELD,
    )
    async def rollback_model(deployment_id: DeploymentId, body: RollbackBody, at: Submitted) -> ReplacementAccepted:
        return await admitted(at, at.command(cmd.RollbackModel, deployment_id, body))

    @command_route(
        "/challengers",
        methods=["POST"],
        summary="Add a challenger",
        description="A registered package that passes the checks, neither the champion nor another challenger's "
        "package, at most 5 per deployment (409 `challenger-limit`): ends in `ChallengerAdded`; `challenger_id` "
        "is its id. OWNERs and admins only.",
    )
    async def add_challenger(
        deployment_id: DeploymentId, body: AddChallengerBody, at: Submitted
    ) -> ReplacementAccepted:
        return await admitted(at, at.command(cmd.AddChallenger, deployment_id, body))

    # Declared before `/challengers/{challenger_id}`, whose path also matches `.../x:promote`: a method
    # neither route has is then answered 405 with this route's `Allow`, not the DELETE's.
    @command_route(
        "/challengers/{challenger_id}:promote",
        methods=["POST"],
        summary="Promote a challenger",
        description="A replacement by the challenger's package, through the same checks: ends in `ModelReplaced` "
        "and `ChallengerRemoved` (promoted)." + HELD,
    )
    async def promote_challenger(
        deployment_id: DeploymentId, challenger_id: ChallengerId, body: PromoteBody, at: Submitted
    ) -> ReplacementAccepted:
        return await admitted(at, at.command(cmd.PromoteChallenger, deployment_id, body, challenger_id=challenger_id))

    @command_route(
        f"/challengers/{{challenger_id:{SEGMENT}}}",  # not also `/challengers/{challenger_id}:promote`
        methods=["DELETE"],
        summary="Remove a challenger",
        description="Ends in `ChallengerRemoved`. OWNERs and admins only.",
    )
    async def remove_challenger(
        deployment_id: DeploymentId, challenger_id: ChallengerId, at: Submitted
    ) -> ReplacementAccepted:
        return await admitted(at, at.command(cmd.RemoveChallenger, deployment_id, challenger_id=challenger_id))

    @router.get(
        "/model-history",
        response_model=ModelHistoryOut,
        responses=errors(401, 404),
        summary="The model history",
        description="The champion, the challengers, every deploy and change of model (package, reason, actor, the "
        "checks and their outcome, start and end of service), and the changes held for approval. OWNERs, USERs "
        "and admins may read it.",
    )
    async def model_history(deployment_id: DeploymentId, who: Who) -> ModelHistoryOut:
        return ModelHistoryOut.of(await admission.visible(deployment_id, who))

    return router


def _expected(events: Sequence[Event]) -> dict[str, str | None]:
    """What the pre-check expects the command to end in, as far as the caller needs ids from it."""
    opened = next((e for e in events if isinstance(e, ev.ChangeRequestOpened)), None)
    added = next((e for e in events if isinstance(e, ev.ChallengerAdded)), None)
    return {
        "change_request_id": opened.change_request_id if opened else None,
        "challenger_id": added.challenger_id if added else None,
    }
