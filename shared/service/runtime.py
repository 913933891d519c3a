"""The pieces every service runs with, built from its settings in one place (no module-level clients)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from pymongo.asynchronous.database import AsyncDatabase

from shared.messaging.admin import ensure_topics
from shared.messaging.publisher import KafkaPublisher, kafka_broker
from shared.service.docs import serve_docs
from shared.service.logging import configure_logging, get_logger
from shared.service.metrics import ServiceMetrics
from shared.service.routing import allow_every_method
from shared.service.settings import ServiceSettings
from shared.storage.mongo import Document, mongo_client, ping

log = get_logger(__name__)

Hook = Callable[[], Awaitable[None]]


class Health(BaseModel):
    status: Literal["ok"]
    service: str


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str] = Field(description='Each part (database, kafka, consumers): "ok" or why not')


class Runtime:
    """Mongo client, publisher, FastStream broker and metrics of one service instance."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.metrics = ServiceMetrics(settings.service_name)
        self.mongo = mongo_client(settings.mongo.url)
        self.db: AsyncDatabase[Document] = self.mongo[settings.mongo.database]
        # One broker: its subscribers and the one producer connection that the publisher sends through.
        self.broker = kafka_broker(settings.kafka.bootstrap_servers, client_id=settings.service_name)
        self.publisher = KafkaPublisher(self.broker, settings.topics, source=settings.service_name)
        self.readiness_checks: dict[str, Callable[[], str]] = {}
        """Parts that can stop making progress (consumers), by name: each answers "ok" or why not."""

    async def start(self) -> None:
        s = self.settings
        await ensure_topics(s.kafka.bootstrap_servers, s.topics, s.kafka.topic_partitions)
        await self.broker.start()  # connects the producer before any subscriber runs
        log.info("started", kafka=s.kafka.bootstrap_servers, database=s.mongo.database, group=s.group_id)

    async def stop(self) -> None:
        await self.broker.stop()
        await self.mongo.close()

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(ping(self.mongo), timeout=3)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {exc}"
        checks["kafka"] = "ok" if await self.broker.ping(timeout=3) else "unavailable"
        checks.update({name: check() for name, check in self.readiness_checks.items()})
        return checks


async def _every(seconds: float, hook: Hook, stopping: asyncio.Event) -> None:
    """Run `hook` now and every `seconds` until `stopping` is set. The event, not only the task's
    cancellation, ends the loop: PyMongo's async client sometimes swallows a CancelledError (2 finds in
    10 cancelled 1 ms in), and the loop would then sleep its whole interval (an hour for pruning) while
    the service waits for it to stop."""
    while not stopping.is_set():
        try:
            await hook()
        except Exception:
            log.exception("periodic task failed", task=getattr(hook, "__name__", repr(hook)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), seconds)


def service_app(
    runtime: Runtime,
    *,
    title: str,
    routers: Sequence[APIRouter] = (),
    on_start: Sequence[Hook] = (),
    periodic: Sequence[tuple[float, Hook]] = (),
    description: str = "",
) -> FastAPI:
    """A FastAPI app whose lifespan runs the runtime, with /healthz, /readyz and /metrics."""
    settings = runtime.settings
    configure_logging(settings.service_name, settings.log.level, settings.log.json_output)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for hook in on_start:
            await hook()
        await runtime.start()
        stopping = asyncio.Event()
        tasks = [asyncio.create_task(_every(seconds, hook, stopping)) for seconds, hook in periodic]
        try:
            yield
        finally:
            stopping.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await runtime.stop()

    # FastAPI's own /docs and /redoc load their assets from a CDN; serve_docs serves Swagger UI locally.
    app = FastAPI(title=title, description=description, lifespan=lifespan, docs_url=None, redoc_url=None)
    serve_docs(app)
    allow_every_method(app)
    app.state.runtime = runtime

    @app.get("/healthz", tags=["operations"], response_model=Health)
    async def healthz() -> Health:
        return Health(status="ok", service=settings.service_name)

    @app.get(
        "/readyz",
        tags=["operations"],
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "Not ready: `checks` says which part is not"}},
    )
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    return app
