"""The running stack as the demo sees it: each service's HTTP API as one of the demo's users, the
upstream systems' publisher, and waiting for an outcome with a bounded timeout.

Every failure the demo can meet becomes a `DemoFailed` with one line that says what did not happen
and where to look; `__main__` prints it and exits non-zero.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx

from shared.contract.envelope import Envelope, derived_id, wrap
from shared.contract.messages import Message
from shared.messaging.publisher import standalone_publisher
from tools.cli.common import CliSettings

T = TypeVar("T")
SERVICES = ("inventory", "actions", "replacement", "retraining")
USERS = ("alice", "bob")
"""The demo's people: alice registers and owns deployments, bob is the second OWNER who reviews."""


class DemoFailed(Exception):
    """A step did not happen: the message says which, in one line."""


class Stack:
    def __init__(self, settings: CliSettings, run: str) -> None:
        self.settings = settings
        self.run = run
        """Names this run's ids (`demo`, `demo-2`, ...): ids stay distinct from a previous run's on the same stack."""
        self.urls = {service: str(getattr(settings, f"{service}_url")).rstrip("/") for service in SERVICES}
        tokens = {user.user: token for token, user in settings.api_tokens.items() if not user.admin}
        missing = [user for user in USERS if user not in tokens]
        if missing:
            raise DemoFailed(
                f"the services know no token of {', '.join(missing)}: set LIFECYCLE_API_TOKENS as infra/env.sh does"
            )
        self.tokens = {"admin": settings.token, **{user: tokens[user] for user in USERS}}
        self._http = httpx.Client(timeout=15.0)

    def close(self) -> None:
        self._http.close()

    # HTTP ---------------------------------------------------------------------------------------------

    def request(
        self, service: str, method: str, path: str, *, user: str = "admin", body: Any = None, key: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        try:
            return self._http.request(method, self.urls[service] + path, json=body, headers=headers)
        except httpx.TransportError as error:
            raise DemoFailed(
                f"the {service} service does not answer at {self.urls[service]} ({type(error).__name__}); "
                f"see {self.log_of(service)}"
            ) from error

    def get(self, service: str, path: str, user: str = "admin", **params: Any) -> Any:
        """A read that must succeed (200): its JSON."""
        response = self.request(service, "GET", path + _query(params), user=user)
        if response.status_code != 200:
            raise DemoFailed(f"GET {self.urls[service]}{path} answered {response.status_code}: {response.text[:200]}")
        return response.json()

    def found(self, service: str, path: str, user: str = "admin") -> Any | None:
        """A read that may answer 404 (None)."""
        response = self.request(service, "GET", path, user=user)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise DemoFailed(f"GET {self.urls[service]}{path} answered {response.status_code}: {response.text[:200]}")
        return response.json()

    def command(self, service: str, method: str, path: str, body: Any = None, *, user: str, step: str) -> Any:
        """Send a command (its id is this run's `step`, so a re-sent one runs once) and wait until it has
        completed; the service's first answer (with the ids it names: policy, change request...)."""
        key = f"{self.run}.{step}"
        response = self.request(service, method, path, user=user, body=body, key=key)
        if response.status_code != 202:
            raise DemoFailed(f"{method} {path} ({step}) was refused: {response.status_code} {response.text[:300]}")
        accepted: dict[str, Any] = response.json()
        command_id = accepted["command_id"]

        def settled() -> dict[str, Any] | None:
            status: dict[str, Any] = self.get(service, f"/commands/{command_id}")
            return None if status["status"] == "accepted" else status

        status = self.wait(f"the {service} service to decide {step}", settled, within=30)
        if status["status"] != "completed":
            raise DemoFailed(f"{step} was {status['status']}: {status.get('code')} {status.get('reason')}")
        return accepted

    def ready(self, within: float = 60) -> None:
        for service, url in self.urls.items():

            def answers(url: str = url) -> bool:
                try:
                    return self._http.get(f"{url}/readyz").status_code == 200
                except httpx.TransportError:
                    return False

            self.wait(f"the {service} service to be ready at {url}", answers, within)

    # Waiting ------------------------------------------------------------------------------------------

    def wait(self, what: str, probe: Callable[[], T | None], within: float, every: float = 0.5) -> T:
        """`probe()` once it is truthy; DemoFailed after `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            outcome = probe()
            if outcome:
                return outcome
            if time.monotonic() > deadline:
                raise DemoFailed(f"timed out after {within:.0f}s waiting for {what}")
            time.sleep(every)

    # Upstream systems ---------------------------------------------------------------------------------

    def event_id(self, name: str) -> str:
        return derived_id(self.run, name)

    async def publish(self, source: str, items: Sequence[tuple[str, Message, datetime]], actor: str) -> None:
        """Publish (name, message, event time) as an upstream system `source` would; each event id is
        derived from the run and the name, so a re-sent event is recognised."""
        envelopes: list[Envelope] = [
            wrap(message, source=source, time=at, actor=actor, event_id=self.event_id(name))
            for name, message, at in items
        ]
        bootstrap = self.settings.kafka.bootstrap_servers
        async with standalone_publisher(bootstrap, self.settings.topics, source) as publisher:
            await publisher.publish_envelopes(envelopes, [message for _, message, _ in items])

    @staticmethod
    def log_of(service: str) -> str:
        return f"{os.getenv('LIFECYCLE_HOME', '.local')}/services/{service}.log"


def _query(params: dict[str, Any]) -> str:
    given = {k: v for k, v in params.items() if v is not None}
    return ("?" + str(httpx.QueryParams(given))) if given else ""
