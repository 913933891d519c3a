"""The retraining service's HTTP API, under `/deployments/{id}`:

    GET    /retraining-settings                         the settings (OWNER, USER, admin)
    PUT    /retraining-settings                         202: ChangeRetrainingSettings (OWNER)
    GET    /retraining-policies                         the policies, each with its latest run
    POST   /retraining-policies                         202: CreateRetrainingPolicy (OWNER; five at most)
    POST   /retraining-policies:backtest                200: when a draft policy would have fired (nothing published)
    GET    /retraining-policies/{policy_id}             one policy
    PATCH  /retraining-policies/{policy_id}             202: UpdateRetrainingPolicy (OWNER)
    DELETE /retraining-policies/{policy_id}             202: DeleteRetrainingPolicy (OWNER)
    POST   /retraining-policies/{policy_id}/runs        202: RunRetrainingPolicy, a run by hand (OWNER, USER)
    GET    /retraining-runs                             run history, newest first
    GET    /retraining-runs/{run_id}                    one run
    POST   /retraining-runs/{run_id}:cancel             202: CancelRetrainingRun (OWNER, USER)

Commands answer 202 with the command id, where to follow it (`Location`) and the policy or run id they
create or act on, or 400/401/403/404/409 with a code and a reason when already known to be refused (see
admission.py), or 422 for an invalid body. Reads answer 404 to whoever may not see the deployment
(CONSUMERs and strangers, as the inventory). `GET /commands/{id}` is the kit's.

No `from __future__ import annotations` here: FastAPI must evaluate the route annotations.
"""

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from services.retraining.adapters.reports import Reports
from services.retraining.domain import codes
from services.retraining.domain.backtest import Backtest, backtest
from services.retraining.domain.state import RetrainingState, Run
from services.retraining.entrypoints.admission import RetrainingAdmission
from services.retraining.entrypoints.api_models import (
    DEPLOYMENT_ID,
    RESOURCE_ID,
    BacktestBody,
    BacktestOut,
    PoliciesOut,
    PolicyBody,
    PolicyChangeBody,
    PolicyOut,
    RetrainingAccepted,
    RunOut,
    RunsOut,
    SettingsBody,
    SettingsOut,
    errors,
)
from shared.contract.commands import retraining as cmd
from shared.contract.envelope import derived_id
from shared.contract.events.retraining import RunStatus
from shared.contract.messages import Actor
from shared.service.admission import Refused, Submission, submissions
from shared.service.routing import SEGMENT

DeploymentId = Annotated[str, Path(pattern=DEPLOYMENT_ID, description="The deployment id")]
PolicyId = Annotated[str, Path(pattern=RESOURCE_ID, description="The retraining policy id")]
RunId = Annotated[str, Path(pattern=RESOURCE_ID, description="The retraining run id")]
ReadReports = Callable[[str, datetime], Awaitable[Reports]]
"""The deployment's recorded drift and accuracy reports before an instant (adapters.reports)."""
ACCEPTED = {
    202: {
        "description": "Accepted: the command runs in the background; follow `status_url`",
        "headers": {"Location": {"description": "Where to follow the command", "schema": {"type": "string"}}},
    }
}
COMMAND_ERRORS = errors(400, 401, 403, 404, 409)
READ_ERRORS = errors(401, 404)


def retraining_api(
    admission: RetrainingAdmission, actor: Callable[..., Actor], read_reports: ReadReports, max_policies: int
) -> APIRouter:
    router = APIRouter(prefix="/deployments/{deployment_id}", tags=["retraining"])
    Who = Annotated[Actor, Depends(actor)]

    Submitted = Annotated[Submission, Depends(submissions(admission, actor))]
    command_route = functools.partial(
        router.api_route,
        status_code=202,
        response_model=RetrainingAccepted,
        responses={**ACCEPTED, **COMMAND_ERRORS},  # type: ignore[dict-item]
    )

    async def admitted(at: Submission, command: cmd.RetrainingCommand, **ids: str | None) -> RetrainingAccepted:
        accepted, _ = await at.admit(command)
        return RetrainingAccepted(**accepted.model_dump(), **ids)

    @router.get(
        "/retraining-settings",
        response_model=SettingsOut,
        responses=READ_ERRORS,
        summary="The retraining settings",
        description="Who runs automatic retraining (the retraining user), on which dataset, and where challengers "
        "are scored. `configured` is false until an OWNER sets them.",
    )
    async def get_settings(deployment_id: DeploymentId, who: Who) -> SettingsOut:
        return SettingsOut.of(await admission.visible(deployment_id, who))

    @command_route(
        "/retraining-settings",
        methods=["PUT"],
        summary="Set the retraining settings (OWNER)",
        description="Ends in `RetrainingSettingsChanged`. The retraining user must be an OWNER of the deployment "
        "(409 `retraining-user-not-owner`): share it first.",
    )
    async def put_settings(deployment_id: DeploymentId, body: SettingsBody, at: Submitted) -> RetrainingAccepted:
        return await admitted(at, at.command(cmd.ChangeRetrainingSettings, deployment_id, body))

    @router.get(
        "/retraining-policies",
        response_model=PoliciesOut,
        responses=READ_ERRORS,
        summary="The retraining policies",
        description="Each with its trigger bookkeeping (last automatic fire, next scheduled time) and latest run.",
    )
    async def list_policies(deployment_id: DeploymentId, who: Who) -> PoliciesOut:
        state = await admission.visible(deployment_id, who)
        policies = [PolicyOut.of(policy, state) for policy in state.policies]
        return PoliciesOut(deployment_id=deployment_id, limit=max_policies, policies=policies)

    @command_route(
        "/retraining-policies",
        methods=["POST"],
        summary="Create a retraining policy (OWNER)",
        description="Ends in `RetrainingPolicyCreated` with the `policy_id` answered here. Refused (409) without "
        "retraining settings (`no-retraining-settings`), beyond five policies (`policy-limit`), or for a "
        "schedule that is never due (`schedule-never-due`).",
    )
    async def create_policy(deployment_id: DeploymentId, body: PolicyBody, at: Submitted) -> RetrainingAccepted:
        command = at.command(cmd.CreateRetrainingPolicy, deployment_id, body)
        return await admitted(at, command, policy_id=derived_id(at.command_id, "policy"))

    @router.post(
        "/retraining-policies:backtest",
        response_model=BacktestOut,
        responses=errors(400, 401, 404),
        summary="Backtest a draft policy (OWNER, USER)",
        description="When the draft trigger would have fired over [start, end), and how many runs it would have "
        "started, from the deployment's recorded `DriftDetected` / `AccuracyChanged` (read back from the "
        "monitoring topic) and the schedule, through the same trigger code the live service runs: reports "
        "before `start` set the baseline, the minimum interval throttles, schedules step by their cron due "
        "times. Nothing is trained or published. Reads the monitoring topic once per request.",
    )
    async def backtest_policy(deployment_id: DeploymentId, body: BacktestBody, who: Who) -> BacktestOut:
        await admission.visible(deployment_id, who)
        start, end = body.window()
        if end <= start:  # an empty range: nothing to read, nothing fires
            return BacktestOut.of(deployment_id, Backtest(start=start, end=end, fires=(), truncated=False), 0)
        found = await read_reports(deployment_id, end)
        result = backtest(deployment_id, body.trigger.trigger(), start, end, found.reports)
        return BacktestOut.of(deployment_id, result, len(found.reports))

    @router.get(
        "/retraining-policies/{policy_id}",
        response_model=PolicyOut,
        responses=READ_ERRORS,
        summary="One retraining policy",
    )
    async def get_policy(deployment_id: DeploymentId, policy_id: PolicyId, who: Who) -> PolicyOut:
        state = await admission.visible(deployment_id, who)
        policy = state.policy(policy_id)
        if policy is None:
            raise Refused(404, f"deployment {deployment_id} has no retraining policy {policy_id}", codes.POLICY_UNKNOWN)
        return PolicyOut.of(policy, state)

    @command_route(
        "/retraining-policies/{policy_id}",
        methods=["PATCH"],
        summary="Change a retraining policy (OWNER)",
        description="Changes the fields given (at least one); ends in `RetrainingPolicyUpdated` with the whole "
        "policy. A new trigger judges only what happens from then on.",
    )
    async def update_policy(
        deployment_id: DeploymentId, policy_id: PolicyId, body: PolicyChangeBody, at: Submitted
    ) -> RetrainingAccepted:
        command = at.command(cmd.UpdateRetrainingPolicy, deployment_id, body, policy_id=policy_id)
        return await admitted(at, command, policy_id=policy_id)

    @command_route(
        "/retraining-policies/{policy_id}",
        methods=["DELETE"],
        summary="Delete a retraining policy (OWNER)",
        description="Ends in `RetrainingPolicyDeleted`; its runs already started go on.",
    )
    async def delete_policy(deployment_id: DeploymentId, policy_id: PolicyId, at: Submitted) -> RetrainingAccepted:
        command = at.command(cmd.DeleteRetrainingPolicy, deployment_id, policy_id=policy_id)
        return await admitted(at, command, policy_id=policy_id)

    @command_route(
        "/retraining-policies/{policy_id}/runs",
        methods=["POST"],
        summary="Run a retraining policy now (OWNER, USER)",
        description="Starts a run by hand, whatever the policy's trigger, with the `run_id` answered here: "
        "`RetrainingRunStarted` (trigger manual), then its steps; it waits its turn while another run is in "
        "progress. The run acts as you.",
    )
    async def run_policy(deployment_id: DeploymentId, policy_id: PolicyId, at: Submitted) -> RetrainingAccepted:
        command = at.command(cmd.RunRetrainingPolicy, deployment_id, policy_id=policy_id)
        return await admitted(at, command, policy_id=policy_id, run_id=derived_id(at.command_id, "run"))

    @router.get(
        "/retraining-runs",
        response_model=RunsOut,
        responses=READ_ERRORS,
        summary="Run history",
        description="Every run in progress and the latest 50 finished ones, newest first: trigger and cause, "
        "start, end, duration, step, the package it trained, its error.",
    )
    async def list_runs(
        deployment_id: DeploymentId,
        who: Who,
        policy_id: Annotated[str | None, Query(pattern=RESOURCE_ID)] = None,
        status: RunStatus | None = None,
    ) -> RunsOut:
        state = await admission.visible(deployment_id, who)
        runs = [
            RunOut.of(run)
            for run in reversed(state.runs)
            if policy_id in (None, run.policy_id) and status in (None, run.status)
        ]
        return RunsOut(deployment_id=deployment_id, runs=runs)

    @router.get(
        f"/retraining-runs/{{run_id:{SEGMENT}}}",  # not also `/retraining-runs/{run_id}:cancel`
        response_model=RunOut,
        responses=READ_ERRORS,
        summary="One retraining run",
    )
    async def get_run(deployment_id: DeploymentId, run_id: RunId, who: Who) -> RunOut:
        return RunOut.of(_run(await admission.visible(deployment_id, who), run_id))

    @command_route(
        "/retraining-runs/{run_id}:cancel",
        methods=["POST"],
        summary="Cancel a retraining run (OWNER, USER)",
        description="Ends in `RetrainingRunCanceled` (and `TrainingCanceled` to the trainer while it trains). "
        "Refused (409) once the run reached creating challenger or replacing model "
        "(`run-past-cancel-point`) or finished (`run-finished`).",
    )
    async def cancel_run(deployment_id: DeploymentId, run_id: RunId, at: Submitted) -> RetrainingAccepted:
        command = at.command(cmd.CancelRetrainingRun, deployment_id, run_id=run_id)
        return await admitted(at, command, run_id=run_id)

    return router


def _run(state: RetrainingState, run_id: str) -> Run:
    run = state.run(run_id)
    if run is None:
        raise Refused(404, f"deployment {state.deployment_id} has no retraining run {run_id}", codes.RUN_UNKNOWN)
    return run
