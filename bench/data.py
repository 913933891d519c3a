"""Synthetic but realistic inventory data, built through the real contract and domain.

- The fleet: each deployment's life (created, maybe shared, health reports, predictions, maybe deleted)
  folded by the domain's `evolve`, plus the bookkeeping fields the projection store writes next to the
  state (copied from a document the real store wrote, and checked equal to it): documents shaped like
  the projection's, bulk-inserted without going through Kafka.
- Ingest: CloudEvents encoded exactly as producers do, spread uniformly over the fleet.

Everything is derived from a seed, so two runs load the same data.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import bson
import orjson

from services.inventory.adapters.query import Caller
from services.inventory.adapters.store import QUERIED
from services.inventory.domain.evolve import evolve
from services.inventory.domain.state import DeploymentView
from shared.contract import events as ev
from shared.contract.envelope import Envelope, to_structured, wrap
from shared.contract.events.values import (
    DeploymentStatus,
    HealthStatus,
    HealthWindow,
    Importance,
    ModelPackageRef,
    Platform,
    PredictionEnvironment,
    PrincipalType,
    Role,
    Tag,
    TargetType,
)
from shared.contract.messages import Message
from shared.contract.topology import Topics
from shared.messaging.consumer import Inbound, Position
from shared.storage.counters import COUNTED, COUNTING, Contribution, record_transition
from shared.storage.layout import STATE, packed
from shared.storage.mongo import Document

T0 = datetime(2026, 11, 1, tzinfo=UTC)
USERS = [f"user-{n:02d}" for n in range(40)]
TEAMS = [f"team-{n}" for n in range(4)]
# The non-admin caller of the query benchmark: one user in two of the four teams, so it sees about half.
CALLER = Caller(user="user-07", groups=("team-2", "team-3"))

_ADJECTIVES = ["Churn", "Fraud", "Credit", "Demand", "Price", "Lead", "Risk", "Claims", "Sentiment", "Routing"]
_NOUNS = ["scorer", "forecaster", "classifier", "ranker", "detector", "estimator"]
_HEALTH = [HealthStatus.PASSING, HealthStatus.WARNING, HealthStatus.FAILING, HealthStatus.UNKNOWN]
_HEALTH_WEIGHTS = [0.6, 0.22, 0.13, 0.05]
_STATUS = [DeploymentStatus.ACTIVE, DeploymentStatus.INACTIVE, DeploymentStatus.ERRORED, DeploymentStatus.LAUNCHING]
_STATUS_WEIGHTS = [0.72, 0.16, 0.06, 0.06]
# Monitoring mix of the ingest stream (after one DeploymentCreated per deployment).
INGEST_MIX: list[tuple[type[Message], float]] = [
    (ev.PredictionsRecorded, 0.55),
    (ev.ServiceHealthChanged, 0.15),
    (ev.DriftDetected, 0.15),
    (ev.AccuracyChanged, 0.15),
]


def deployment_id(n: int) -> str:
    return f"dep-{n:07d}"


def _event_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def created_event(n: int, rng: random.Random) -> ev.DeploymentCreated:
    target = rng.choice(list(TargetType))
    package = ModelPackageRef(
        id=f"pkg-{n:07d}",
        name=f"{rng.choice(['gbm', 'xgboost', 'glm', 'keras', 'rf'])} v{rng.randint(1, 9)}",
        registered_model_id=f"rm-{n % 5000:05d}",
        target_name=rng.choice(["churn", "fraud", "amount", "class", "score"]),
        target_type=target,
        target_classes=("yes", "no") if target is TargetType.BINARY else (),
    )
    tags = [Tag(name="env", value=rng.choice(["prod", "staging"]))]
    if rng.random() < 0.5:
        tags.append(Tag(name="cost-center", value=f"cc-{rng.randint(1, 30)}"))
    return ev.DeploymentCreated(
        deployment_id=deployment_id(n),
        label=f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {n}",
        description=f"Scores {rng.choice(['customers', 'orders', 'claims', 'sessions'])} for the {n % 97} desk",
        importance=rng.choice(list(Importance)),
        status=rng.choices(_STATUS, _STATUS_WEIGHTS)[0],
        model_package=package,
        prediction_environment=PredictionEnvironment(
            id=f"env-{n % 12}", name=f"prod-{n % 12}", platform=rng.choice(list(Platform))
        ),
        created_by=rng.choice(USERS),
        owners=(rng.choice(TEAMS),) if rng.random() < 0.8 else (),
        tags=tuple(tags),
    )


def monitoring_event(kind: type[Message], subject: str, at: datetime, rng: random.Random) -> Message:
    if kind is ev.PredictionsRecorded:
        return ev.PredictionsRecorded(
            deployment_id=subject, count=rng.randint(1, 5000), predicted_at=at, model_package_id=None
        )
    status = rng.choices(_HEALTH, _HEALTH_WEIGHTS)[0]
    window = HealthWindow(start=at - timedelta(hours=1), end=at)
    if kind is ev.ServiceHealthChanged:
        return ev.ServiceHealthChanged(
            deployment_id=subject, status=status, window=window, error_count_5xx=rng.randint(0, 20)
        )
    if kind is ev.DriftDetected:
        features = tuple(f"f{k}" for k in rng.sample(range(40), rng.randint(0, 3)))
        return ev.DriftDetected(deployment_id=subject, status=status, window=window, drifting_features=features)
    if kind is ev.AccuracyChanged:
        return ev.AccuracyChanged(
            deployment_id=subject, status=status, window=window, metric="LogLoss", value=round(rng.random(), 4)
        )
    raise ValueError(f"no generator for {kind.__name__}")


def _envelope(message: Message, at: datetime, event_id: str) -> Envelope:
    # Skips validation and payload serialisation: the domain reads only id, subject, time, actor and
    # correlation id (the audit trail keeps it; `wrap` defaults it to the event id, as here).
    return Envelope.model_construct(
        id=event_id,
        type=message.type_name,
        source="bench/upstream",
        subject=message.subject,
        time=at,
        actor="bench",
        correlationid=event_id,
        data={},
    )


def deployment_events(n: int, rng: random.Random) -> list[tuple[Message, datetime]]:
    """The life of one deployment up to now: creation, maybe sharing, health, predictions, deletion."""
    subject = deployment_id(n)
    created_at = T0 - timedelta(days=rng.uniform(1, 700))
    items: list[tuple[Message, datetime]] = [(created_event(n, rng), created_at)]
    if rng.random() < 0.3:
        share = ev.DeploymentShared(
            deployment_id=subject, principal=rng.choice(TEAMS), principal_type=PrincipalType.GROUP, role=Role.USER
        )
        items.append((share, created_at + timedelta(hours=1)))
    reported = T0 - timedelta(hours=rng.uniform(0, 48))
    for kind in (ev.ServiceHealthChanged, ev.DriftDetected, ev.AccuracyChanged):
        if rng.random() < 0.9:
            items.append((monitoring_event(kind, subject, reported, rng), reported))
    if rng.random() < 0.3:
        fairness = ev.FairnessChanged(deployment_id=subject, status=rng.choices(_HEALTH, _HEALTH_WEIGHTS)[0])
        items.append((fairness, reported))
    for _ in range(rng.randint(0, 4)):
        at = T0 - timedelta(days=rng.uniform(0, 30))
        items.append((monitoring_event(ev.PredictionsRecorded, subject, at, rng), at))
    if rng.random() < 0.05:
        items.append((ev.DeploymentDeleted(deployment_id=subject), T0))
    return items


def _rng(seed: int, n: int) -> random.Random:
    return random.Random(seed * 1_000_003 + n)


def deployment_inbounds(n: int, seed: int, namespace: str) -> list[Inbound]:
    """Deployment `n`'s events as the consumer hands them on (real envelopes), for the real store."""
    topics = Topics(namespace)
    rng = _rng(seed, n)
    inbounds = []
    for offset, (message, at) in enumerate(deployment_events(n, rng)):
        envelope = wrap(message, source="bench/upstream", event_id=_event_id(rng), time=at, actor="bench")
        position = Position(topics.for_stream(message.stream), n % 6, n * 10 + offset)
        inbounds.append(Inbound(envelope, message, position))
    return inbounds


def view_of(n: int, seed: int) -> DeploymentView:
    """Deployment `n`'s state as the domain folds it."""
    rng = _rng(seed, n)
    view: DeploymentView | None = None
    for message, at in deployment_events(n, rng):
        inbound = Inbound(_envelope(message, at, _event_id(rng)), message, Position("-", 0, 0))
        view = evolve(view, inbound.recorded)
    assert view is not None
    return view


def view_document(view: DeploymentView) -> Document:
    """The state as the projection stores it, with its `_id`, before the store's bookkeeping."""
    return {**packed(view, QUERIED), "_id": view.deployment_id}


def bookkeeping(document: Document) -> Document:
    """What the projection store keeps in a document next to the view (applied offsets, revision),
    except its share of the summary counters, which is each document's own."""
    own = {"_id", COUNTED, COUNTING, STATE, *(path.split(".")[0] for path in QUERIED)}
    return {key: value for key, value in document.items() if key not in own}


# --- Ingest: the events a run publishes, spread uniformly over every deployment in the collection.


@dataclasses.dataclass(frozen=True, slots=True)
class Record:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


@dataclasses.dataclass(frozen=True)
class IngestData:
    records: list[Record]
    predictions: dict[str, int]  # deployment id -> predictions its events add (to check nothing is lost)


def ingest_data(namespace: str, deployments: int, events: int, seed: int, start: datetime) -> IngestData:
    """`events` monitoring events about deployments drawn uniformly from [0, deployments), encoded exactly
    as producers do (`wrap` + `to_structured`), timed after `start` (later than anything loaded)."""
    rng = random.Random(seed * 7919 + deployments)
    topics = Topics(namespace)
    kinds, weights = zip(*INGEST_MIX, strict=True)
    records: list[Record] = []
    predictions: Counter[str] = Counter()
    for i in range(events):
        at = start + timedelta(milliseconds=i)
        message = monitoring_event(rng.choices(kinds, weights)[0], deployment_id(rng.randrange(deployments)), at, rng)
        if isinstance(message, ev.PredictionsRecorded):
            predictions[message.subject] += message.count
        envelope = wrap(message, source="bench/upstream", event_id=_event_id(rng), time=at, actor="bench")
        value, headers = to_structured(envelope)
        records.append(Record(topics.for_stream(message.stream), envelope.subject.encode(), value, headers))
    return IngestData(records, dict(predictions))


# --- Loading: documents built by the domain, in worker processes, ready for both databases.


LOAD_SOURCE = "bench-load#0"
"""The source position under which loaded documents are counted: deployment n at offset n."""
Contribute = Callable[[DeploymentView], Contribution | None]


@dataclasses.dataclass(frozen=True)
class PreparedChunk:
    bson_documents: list[bytes]
    json_rows: list[tuple[str, str]]  # (_id, the document as JSON) for the PostgreSQL floor
    visible: list[str]  # ids the benchmark's caller may read
    transitions: list[Document]  # what the documents add to the summary counters, still to count


def prepare_chunk(start: int, count: int, seed: int, extra: Document, contribute: Contribute | None) -> PreparedChunk:
    """Deployments [start, start + count): the domain's view, the store's bookkeeping fields, and each
    document's share of the summary counters as the store records it (all counted: none pending)."""
    documents: list[Document] = []
    transitions: list[Document] = []
    for n in range(start, start + count):
        view = view_of(n, seed)
        document = {**view_document(view), **extra}
        if contribute is not None:
            counting = record_transition(None, contribute(view), (LOAD_SOURCE, n), {LOAD_SOURCE: (n, n)})
            transitions += counting[COUNTING]
            document.update({COUNTED: counting[COUNTED], COUNTING: []})
        documents.append(document)
    return PreparedChunk(
        [bson.encode(d) for d in documents],
        [(d["_id"], json_text(d)) for d in documents],
        [d["_id"] for d in documents if visible_to_caller(d)],
        transitions,
    )


def visible_to_caller(document: Document) -> bool:
    # A first cut only: the query phase keeps the ids the app itself answers (HTTP 200) for CALLER.
    listed = document.get("created") and document.get("status") not in ("deleted", "erased")
    holders = set(document.get("owners") or ()) | set(document.get("users") or ())
    return bool(listed) and bool(holders & set(CALLER.principals))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        # Fixed width, so that PostgreSQL orders the strings as MongoDB orders the dates.
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raise TypeError(f"no JSON form for {type(value).__name__}")


def json_text(value: Any, sort_keys: bool = False) -> str:
    """The JSON the PostgreSQL floor stores and compares: dates as fixed-width UTC strings."""
    option = orjson.OPT_PASSTHROUGH_DATETIME | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    return orjson.dumps(value, default=_json_default, option=option).decode()
