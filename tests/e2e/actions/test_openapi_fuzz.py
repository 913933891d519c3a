"""Schemathesis over the actions service's OpenAPI document: the real app (in this process, served by
uvicorn on a thread) on the real broker and database, through the shared runner (tests/fuzz.py: every
phase, every check). Every operation gets valid and invalid requests (bodies of wrong types, unknown
enum values, extra fields, oversized strings, bad headers and paths, undeclared methods, missing
headers), half of the valid ones aimed at deployments and change requests that exist, so accepted
commands and refusals from the pre-check are exercised too: no 5xx, every status, header, content type
and body as documented, invalid data refused, valid data accepted, auth enforced.

`LIFECYCLE_FUZZ_EXAMPLES` sets the examples per operation and mode: 10 by default (about 40 s, as part
of the suite); 100 or more for a deeper run."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import uvicorn
from pymongo import MongoClient

from services.actions.bootstrap import create_app
from shared.contract.envelope import derived_id
from tests.fixtures.actions import actions_settings_for, registration
from tests.fixtures.infra import delete_namespace_topics, new_namespace
from tests.fuzz import TIMEOUT, counted, fuzz_served
from tests.infra import Infra
from tests.support import free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(TIMEOUT),
    pytest.mark.filterwarnings("ignore:Do not use the `random` module:hypothesis.errors.HypothesisDeprecationWarning"),
]
EXAMPLES = int(os.getenv("LIFECYCLE_FUZZ_EXAMPLES", "10"))
TOKEN = "alice-token"


class Served:
    """The actions app served by uvicorn on a thread, with its own event loop (and so its own clients)."""

    def __init__(self, infra: Infra) -> None:
        self.settings = actions_settings_for(infra, new_namespace("fz"))
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
    document = httpx.get(f"{app.url}/openapi.json").json()
    sent = fuzz_served(document, app.url, aimed_at(known), token=TOKEN, examples=EXAMPLES, described=_as_described)
    assert {200, 202, 404, 422} <= set(sent), sorted(set(sent))
    # What the edge accepted, the handler could run: nothing failed or went to the dead letters (a
    # string the database cannot store, say, would be accepted with 202 and fail only there).
    assert counted(app.app, "lifecycle_batch_failures") == counted(app.app, "lifecycle_events_dead_lettered") == 0


def aimed_at(known: dict[str, list[str]]) -> Any:
    """Point a valid case's path parameters at what the seed made exist (a random one of each), or, one
    case in three, at what does not."""
    rng = random.Random(0)

    aimed = itertools.count()

    def aim(case: Any) -> Any:
        # Every third aimed case names what does not exist, so the 404 answers are always exercised too.
        missing = next(aimed) % 3 == 2
        for name, values in known.items():
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = f"missing-{name}" if missing else rng.choice(values)
        return case

    return aim


def _as_described(case: Any) -> bool:
    """What the document says in words and JSON Schema cannot: a range's start is before its end
    (clear-statistics; the contract's ClearStatistics refuses an empty range with 422 and why)."""
    body = case.body if isinstance(case.body, dict) else {}
    start, end = body.get("start"), body.get("end")
    if not (isinstance(start, str) and isinstance(end, str)):
        return True
    try:
        return bool(datetime.fromisoformat(start) < datetime.fromisoformat(end))
    except ValueError:
        return True  # not a time at all: the API refuses it, as the document says
