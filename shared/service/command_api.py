"""The HTTP side of commands: accept one (202 with its id and where to follow it), and tell where it stands.

`POST` routes build a command and hand it to `CommandGateway.submit`, which records it as accepted
and publishes it to its topic; `GET /commands/{id}` answers accepted, rejected (code, reason) or
completed (event ids). A client may choose the command id (`Idempotency-Key`): the same id sent again
runs once, and the same id with another body is refused (409).

No `from __future__ import annotations`: FastAPI evaluates the route annotations, which name
dependencies local to their factories.
"""

import hashlib
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, HTTPException, Path
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from shared.contract.messages import Actor, Command
from shared.messaging.publisher import KafkaPublisher
from shared.service.commands import Clock, utc_now
from shared.service.problems import Problem, errors
from shared.service.settings import ApiUser
from shared.storage.aggregates import AggregateStore, CommandRecord, CommandStatus, CommandStatuses

__all__ = ["Accepted", "CommandGateway", "CommandStatusOut", "Problem", "command_status_router"]

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
KEY_HELP = "1-128 characters: letters, digits and . _ : - (not first)"


class Accepted(BaseModel):
    """A command was accepted: it runs in the background; follow `status_url`."""

    command_id: str
    deployment_id: str
    status: CommandStatus
    status_url: str


class CommandStatusOut(BaseModel):
    command_id: str
    command_type: str
    deployment_id: str
    status: CommandStatus
    code: str | None = None
    reason: str | None = None
    event_ids: list[str]
    accepted_at: datetime
    decided_at: datetime | None = None


class IdempotencyConflict(ValueError):
    """The command id was used before for another command."""


def bearer_actor(tokens: dict[str, ApiUser]) -> Callable[..., Actor]:
    """A FastAPI dependency: the Actor of a known bearer token, else 401."""
    bearer = HTTPBearer(auto_error=False)

    def actor(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Actor:
        user = tokens.get(credentials.credentials) if credentials else None
        if user is None:
            raise HTTPException(401, "missing or unknown bearer token", headers={"WWW-Authenticate": "Bearer"})
        return Actor(user=user.user, groups=user.groups, admin=user.admin)

    return actor


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=f"Your id for this command ({KEY_HELP}); sending it again runs the command once",
        # Documented, not enforced here: command_id_from answers a malformed key with 400 and the rule.
        json_schema_extra={"pattern": _KEY.pattern},
    ),
]
CorrelationId = Annotated[str | None, Header(alias="X-Correlation-Id", max_length=128)]


def command_id_from(idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return str(uuid.uuid4())
    if not _KEY.match(idempotency_key):
        raise HTTPException(400, f"Idempotency-Key must be {KEY_HELP}")
    return idempotency_key


async def current_status(record: CommandRecord, store: AggregateStore[Any]) -> CommandRecord:
    """The record with its outcome: the status collection says `accepted` until an outcome leaves the
    deployment's document, so an undecided-looking record is completed from there."""
    if record.status != "accepted":
        return record
    outcome = (await store.load(record.deployment_id)).outcome(record.command_id)
    if outcome is None:
        return record
    decided = {
        "status": outcome.status,
        "event_ids": outcome.event_ids,
        "code": outcome.code,
        "reason": outcome.reason,
        "decided_at": outcome.decided_at,
    }
    return record.model_copy(update=decided)


class CommandGateway:
    """Accepts commands at the edge: records them, publishes them to their topic."""

    def __init__(
        self,
        publisher: KafkaPublisher,
        statuses: CommandStatuses,
        store: AggregateStore[Any],
        clock: Clock = utc_now,
    ) -> None:
        self.publisher = publisher
        self.statuses = statuses
        self.store = store
        self.clock = clock

    async def submit(self, command: Command, *, correlation_id: str | None = None) -> Accepted:
        record = CommandRecord(
            command_id=command.command_id,
            command_type=command.type_name,
            deployment_id=command.deployment_id,
            status="accepted",
            issued_by=command.actor.user,
            fingerprint=_fingerprint(command),
            accepted_at=self.clock(),
        )
        known = await self.statuses.accept(record)
        if known is not None:
            if not _same_command(known, record):
                raise IdempotencyConflict(f"command id {command.command_id!r} was already used for another command")
            known = await current_status(known, self.store)
        if known is None or known.status == "accepted":
            # Published again when still undecided: the first publish may not have happened, and the
            # handler runs a command id once however often it arrives.
            await self.publisher.publish(
                command,
                event_id=command.command_id,
                actor=command.actor.user,
                correlation_id=correlation_id or command.command_id,
            )
        current = known or record
        return Accepted(
            command_id=command.command_id,
            deployment_id=command.deployment_id,
            status=current.status,
            status_url=f"/commands/{command.command_id}",
        )


def _fingerprint(command: Command) -> str:
    return hashlib.sha256(orjson.dumps(command.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()


def _same_command(known: CommandRecord, new: CommandRecord) -> bool:
    if known.fingerprint is not None:
        return known.fingerprint == new.fingerprint
    # First seen on the command topic (no fingerprint): the same type for the same deployment.
    return (known.command_type, known.deployment_id) == (new.command_type, new.deployment_id)


def command_status_router(
    statuses: CommandStatuses, store: AggregateStore[Any], actor: Callable[..., Actor]
) -> APIRouter:
    router = APIRouter(prefix="/commands", tags=["commands"])

    @router.get(
        "/{command_id}",
        response_model=CommandStatusOut,
        summary="Where a command stands: accepted, rejected (code, reason) or completed (event ids)",
        responses=errors(401, 404, described={404: "No such command, or not yours"}),
    )
    async def command_status(
        # No control characters: FerretDB over PostgreSQL fails a query holding NUL (SQLSTATE 22P05), a 500.
        command_id: Annotated[str, Path(pattern=r"^[^\x00-\x1f\x7f]{1,256}$")],
        who: Annotated[Actor, Depends(actor)],
    ) -> CommandStatusOut:
        record = await statuses.get(command_id)
        # Not found and not yours look the same, so ids cannot be probed.
        if record is None or not (who.admin or record.issued_by == who.user):
            raise HTTPException(404, f"command {command_id!r} not found")
        record = await current_status(record, store)
        return CommandStatusOut.model_validate({**record.model_dump(), "event_ids": list(record.event_ids)})

    return router
