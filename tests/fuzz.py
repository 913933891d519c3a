"""Schemathesis over a service's own OpenAPI document: a full run of its engine (examples, coverage,
fuzzing and stateful phases) with every built-in check, against the app under test.

The app is already started by the test's fixture (its lifespan, clients and consumers live in the
test's event loop), so it is served by uvicorn in that same loop on a free port, without a second
lifespan; the engine (synchronous) runs on a thread and calls it over real HTTP. A real socket, not an
in-process transport, because several checks send requests of their own: `ignored_auth` repeats a
request without and with a wrong token, the coverage phase sends undocumented methods
(`unsupported_method`) and drops required headers (`missing_required_header`).

Half the generated cases pass through `aim`, which points a case at what the test made exist, so the
accepted and refusal paths are exercised, not only 404s.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

import httpx
import schemathesis
from fastapi import FastAPI
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from schemathesis.engine.core import Engine

from tests.fixtures.infra import listening

EXAMPLES = int(os.getenv("LIFECYCLE_FUZZ_EXAMPLES", "10"))
"""Per operation and generation mode; 100 or more for a deeper run."""
TIMEOUT = 900
"""Seconds a whole run may take (`pytest.mark.timeout(TIMEOUT)`): every phase over every operation takes
a few minutes on a loaded 2-core machine, past the suite's default of 180."""


def all_checks() -> list[str]:
    """Every check schemathesis ships: the suite excludes none."""
    load_all_checks()
    return CHECKS.get_all_names()


async def fuzzed(
    app: FastAPI,
    http: httpx.AsyncClient | None,
    aim: Callable[[Any], Any],
    *,
    token: str = "alice-token",
    examples: int = EXAMPLES,
) -> list[int]:
    """Run schemathesis with all checks over every operation of `app`; the statuses it answered.
    Fails with every check failure and engine error found. (`http` is unused: kept so that callers
    holding the fixture's client need not change.)"""
    del http
    async with listening(app) as base_url:
        return await asyncio.to_thread(fuzz_served, app.openapi(), base_url, aim, token=token, examples=examples)


def fuzz_served(
    document: dict[str, Any],
    base_url: str,
    aim: Callable[[Any], Any],
    *,
    token: str = "alice-token",
    examples: int = EXAMPLES,
    described: Callable[[Any], bool] | None = None,
) -> list[int]:
    """`fuzzed` for an app already listening at `base_url` (synchronous: call it off the event loop).

    `described`, when given, says whether a valid case also keeps a rule the document states in words
    because JSON Schema cannot (a range's start before its end): valid cases that break it are not
    sent, since `positive_data_acceptance` would expect them accepted. Invalid cases are all sent."""
    seed = {"seed": int(os.environ["LIFECYCLE_FUZZ_SEED"])} if os.getenv("LIFECYCLE_FUZZ_SEED") else {}
    config = SchemathesisConfig.from_dict(
        {
            **seed,
            "base-url": base_url,
            "headers": {"Authorization": f"Bearer {token}"},
            "generation": {"max-examples": examples, "mode": "all", "database": "none"},
            "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
            "checks": {name: {"enabled": True} for name in all_checks()},
            "request-timeout": 60,
        }
    )
    schema = schemathesis.openapi.from_dict(document, config=config)

    @schema.hook
    def flatmap_case(_: Any, case: Any) -> Any:
        # Only valid cases are aimed: aiming an invalid one could replace the very value made invalid.
        if case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
            return st.just(case)
        return st.booleans().map(lambda aimed: aim(case) if aimed else case)

    @schema.hook
    def after_call(_: Any, case: Any, response: Any) -> None:
        settled(base_url, response)

    if described is not None:
        keeps = described

        @schema.hook
        def filter_case(_: Any, case: Any) -> bool:
            return case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE or keeps(case)

    statuses: list[int] = []
    problems: list[str] = []
    for event in Engine(schema=schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            statuses.extend(i.response.status_code for i in recorder.interactions.values() if i.response)
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        case = recorder.cases[case_id].value
                        problems.append(
                            f"{event.phase.value} {case.operation.label} [{check.name}]: "
                            f"{check.failure_info.failure.title}\n{check.failure_info.failure.message}\n"
                            f"{check.failure_info.code_sample}"
                        )
        elif isinstance(event, events.NonFatalError):
            problems.append(f"engine error in {event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            problems.append(f"engine failed: {event.exception!r}")
    assert not problems, f"{len(problems)} failure(s):\n\n" + "\n\n".join(dict.fromkeys(problems))
    return statuses


SETTLE_S = 15.0
"""How long a command answered 202 may take to be decided before the run goes on anyway."""


def settled(base_url: str, response: Any) -> None:
    """Wait, as a well-behaved client does, until a command answered 202 is decided (its `status_url`
    no longer says `accepted`). A 202 answers before the command runs, so without this the next step of
    a stateful scenario (GET the policy just created) races the service's consumer: the scenario then
    sees 404 on a loaded machine and a 200 on an idle one."""
    if response.status_code != 202:
        return
    try:
        body = response.json()
    except ValueError:
        return
    status_url = body.get("status_url") if isinstance(body, dict) else None
    if not isinstance(status_url, str):
        return
    auth = {"Authorization": response.request.headers.get("Authorization", "")}
    deadline = time.monotonic() + SETTLE_S
    with httpx.Client(base_url=base_url, headers=auth, timeout=10) as http:
        while time.monotonic() < deadline:
            status = http.get(status_url)
            if status.status_code != 200 or status.json().get("status") != "accepted":
                return
            time.sleep(0.05)


def counted(app: FastAPI, metric: str) -> float:
    """A counter of the app's metrics registry, over all its labels (e.g. `lifecycle_batch_failures`)."""
    registry = app.state.runtime.metrics.registry
    return float(
        sum(s.value for m in registry.collect() if m.name == metric for s in m.samples if s.name.endswith("_total"))
    )
