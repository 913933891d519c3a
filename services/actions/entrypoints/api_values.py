"""The pieces request bodies are made of, as the HTTP edge takes them: every string bounded and free of
NUL characters, every object closed to unknown fields, every instant an RFC 3339 date-time with its
offset; all of it written into the OpenAPI document, so a client (or a fuzzer) knows what is refused.

Why NUL: PostgreSQL's jsonb, under FerretDB, cannot store it, so a command carrying one would be
accepted and then fail in its handler; it is refused here instead (422).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from shared.contract.commands.actions import COMMENT_MAX, ID_MAX, PRINCIPAL_MAX, REASON_MAX
from shared.contract.events.values import Platform, TargetType

NO_NUL = r"^[^\x00]*$"

Id = Annotated[str, Field(min_length=1, max_length=ID_MAX, pattern=NO_NUL)]
Name = Annotated[str, Field(min_length=1, max_length=512, pattern=NO_NUL)]
Label = Annotated[str, Field(min_length=1, max_length=512, pattern=NO_NUL)]
Description = Annotated[str, Field(max_length=10_000, pattern=NO_NUL)]
Principal = Annotated[str, Field(min_length=1, max_length=PRINCIPAL_MAX, pattern=NO_NUL, description="A user or group")]
Reason = Annotated[str, Field(max_length=REASON_MAX, pattern=NO_NUL, description="Why; shown to reviewers")]
Comment = Annotated[str, Field(max_length=COMMENT_MAX, pattern=NO_NUL)]

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value: object) -> object:
    """Only an RFC 3339 date-time with its UTC offset, as the document says (pydantic alone would also
    take a number, or a numeric string, as seconds since 1970)."""
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.match(value)):
        return value
    raise ValueError("must be an RFC 3339 date-time with a UTC offset, e.g. 2026-01-01T00:00:00Z")


Instant = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TagIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=256, pattern=NO_NUL)]
    value: Annotated[str, Field(max_length=256, pattern=NO_NUL)] = ""


class ModelPackageIn(Body):
    """The model package a deployment serves (shared.contract.events.values.ModelPackageRef)."""

    id: Id
    name: Name
    registered_model_id: Id | None = None
    target_name: Name
    target_type: TargetType
    target_classes: list[Name] = Field(default_factory=list, max_length=1_000)
    build_environment: Name = Field(default="Python", description="DataRobot, Python, R, Java or Other")


class PredictionEnvironmentIn(Body):
    id: Id
    name: Name
    platform: Platform
