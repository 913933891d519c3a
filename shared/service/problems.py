"""The error responses a route documents in OpenAPI, each with its body model, from one place.

Every refusal the services send is a `Problem` (`detail` for people, `code` for programs), except
FastAPI's own 422 for a request that does not match its declared types (`HTTPValidationError`), which
FastAPI documents by itself wherever a route declares parameters or a body. A route lists exactly the
statuses it can answer; a generated client then has a model for each and nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    """Why a request is refused: `detail` for people, `code` (kebab-case, when there is one) for programs."""

    detail: str
    code: str | None = None


Responses = dict[int | str, dict[str, Any]]

DESCRIBED: Mapping[int, str] = {
    400: "A malformed request: a header or query parameter the route refuses (`detail` says which and why)",
    401: "No known bearer token",
    403: "Your role on the deployment does not allow this (`code` says why)",
    404: "No such resource, or not one you may see",
    409: "The resource's state refuses it now (`code` says why), or the Idempotency-Key was used for another command",
    503: "Not ready: a dependency does not answer (the body says which)",
}
"""What each status means when a route does not say more."""

_UNAUTHORIZED_HEADERS = {
    "WWW-Authenticate": {"description": "The scheme to authenticate with: `Bearer`", "schema": {"type": "string"}}
}


def errors(*statuses: int, model: type[BaseModel] = Problem, described: Mapping[int, str] | None = None) -> Responses:
    """The `responses` of a route for these error statuses, each with `model` as its body (the shared
    Problem unless the service extends it) and a description (`described`, else the common one)."""
    texts = {**DESCRIBED, **(described or {})}
    responses: Responses = {}
    for status in statuses:
        responses[status] = {"model": model, "description": texts[status]}
        if status == 401:
            responses[status]["headers"] = _UNAUTHORIZED_HEADERS
    return responses


READ = errors(401, 404)
"""A GET of one resource: no token, or no such resource (or not yours)."""

COMMAND = errors(400, 401, 403, 404, 409)
"""A command on an existing resource: a malformed Idempotency-Key, no token, no right, no resource, refused now."""
