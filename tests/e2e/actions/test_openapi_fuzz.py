"""Schemathesis over the actions service's OpenAPI document: the real app (in this process, served by
uvicorn on a thread) on the real broker and database. Every operation gets valid and invalid requests
(bodies of wrong types, unknown enum values, extra fields, oversized strings, bad headers and paths),
half of them aimed at deployments and change requests that exist, so accepted commands and refusals
from the pre-check are exercised too. Every built-in check must pass: no 5xx, every status, header,
content type and body as documented, invalid data refused.

`LIFECYCLE_FUZZ_EXAMPLES` sets the examples per operation and mode: 10 by default (about 40 s, as part
of the suite); 100 or more for a deeper run."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from pymongo import MongoClient
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from services.actions.bootstrap import create_app
from shared.contract.envelope import derived_id
from tests.fixtures.actions import actions_settings_for, registration
from tests.fixtures.infra import delete_namespace_topics
from tests.fuzz import counted
from tests.infra import Infra

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Do not use the `random` module:hypothesis.errors.HypothesisDeprecationWarning"),
]
EXAMPLES = int(os.getenv("LIFECYCLE_FUZZ_EXAMPLES", "10"))
TOKEN = "alice-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """The actions app served by uvicorn on a thread, with its own event loop (and so its own clients)."""

    def __init__(self, infra: Infra) -> None:
        self.settings = actions_settings_for(infra, f"fz{uuid.uuid4().hex[:10]}")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.app = create_app(self.settings)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name="actions-under-fuzz", daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the actions app did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)
        client: MongoClient[dict[str, Any]] = MongoClient(self.settings.mongo.url)
        with client:
            client.drop_database(self.settings.mongo.database)
        asyncio.run(delete_namespace_topics(self.settings.kafka.bootstrap_servers, self.settings.kafka.topic_namespace))


def settled(http: httpx.Client, command_id: str, token: str = TOKEN) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        response = http.get(f"/commands/{command_id}", headers={"Authorization": f"Bearer {token}"})
        status: dict[str, Any] = response.json()
        if status["status"] != "accepted":
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.1)


def seed(http: httpx.Client) -> dict[str, list[str]]:
    """Deployments (one of them HIGH, with a change request open by bob) and commands to aim at."""
    commands = []
    for deployment_id, importance in [("fz-1", "MODERATE"), ("fz-2", "LOW"), ("fz-high", "HIGH")]:
        response = http.post("/deployments", json=registration(deployment_id, importance=importance))
        assert response.status_code == 202, response.text
        commands.append(response.json()["command_id"])
        assert settled(http, commands[-1])["status"] == "completed"
    response = http.post("/deployments/fz-high/deactivate", json={}, headers={"Authorization": "Bearer bob-token"})
    assert response.status_code == 202, response.text
    assert settled(http, response.json()["command_id"], "bob-token")["status"] == "completed"
    return {
        "deployment_id": ["fz-1", "fz-2", "fz-high"],
        "change_request_id": [derived_id(response.json()["command_id"], "change-request")],
        "command_id": commands,
    }


@pytest.fixture(scope="module")
def served(infra: Infra) -> Iterator[tuple[Served, dict[str, list[str]]]]:
    with Served(infra) as app, httpx.Client(base_url=app.url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        yield app, seed(http)


def test_every_operation_answers_as_documented_and_never_5xx(served: tuple[Served, dict[str, list[str]]]) -> None:
    app, known = served
    schema = schemathesis.openapi.from_url(f"{app.url}/openapi.json")
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) >= 16, [op.label for op in operations]
    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        aimed = {name: st.sampled_from(values) for name, values in known.items() if name in names}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            cases = operation.as_strategy(generation_mode=mode)
            if aimed and mode is GenerationMode.POSITIVE:
                cases = st.one_of(cases, st.fixed_dictionaries(aimed).flatmap(_aimed_at(operation, mode)))
            if mode is GenerationMode.POSITIVE:
                cases = cases.filter(_as_described)

            @given(case=cases)
            @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            def run(case: schemathesis.Case[Any]) -> None:
                case.call_and_validate(base_url=app.url, headers={"Authorization": f"Bearer {TOKEN}"})

            try:
                run()
            except Unsatisfiable:
                continue  # nothing to make invalid (no parameters, no body)
            except (Exception, BaseExceptionGroup) as error:  # all operations are fuzzed, failures reported together
                failures[f"{operation.label} ({mode})"] = f"{type(error).__name__}: {error}"[:3000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    # What the edge accepted, the handler could run: nothing failed or went to the dead letters (a
    # string the database cannot store, say, would be accepted with 202 and fail only there).
    assert counted(app.app, "lifecycle_batch_failures") == counted(app.app, "lifecycle_events_dead_lettered") == 0


def _as_described(case: schemathesis.Case[Any]) -> bool:
    """What the document says in words and JSON Schema cannot: a range's start is before its end."""
    body = case.body if isinstance(case.body, dict) else {}
    start, end = body.get("start"), body.get("end")
    if not (isinstance(start, str) and isinstance(end, str)):
        return True
    return bool(datetime.fromisoformat(start) < datetime.fromisoformat(end))


def _aimed_at(operation: schemathesis.APIOperation[Any, Any, Any, Any], mode: GenerationMode) -> Any:
    def strategy(path_parameters: dict[str, str]) -> Any:
        return operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    return strategy
