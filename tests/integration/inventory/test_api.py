"""The inventory read API over a fleet of deployments projected from real Kafka into the database:
every filter, every sort key both ways, paging, the summary, visibility by role, refused parameters
and the OpenAPI document.

The fleet is published once for the module and only read by the tests. Labels, times, counts and
health are chosen so that each filter and each sort gives a different, fully predictable answer.

    id      label             status    importance platform    target          by     health s/d/a/f   predictions
    api-01  Churn scorer      active    MODERATE   aws         Binary          alice  P P P P          100 @60
    api-02  fraud detector    active    CRITICAL   gcp         Binary          alice  F W F P          500 @120
    api-03  Price forecaster  inactive  HIGH       azure       Regression      alice  W F W -           30 @30
    api-04  Anomaly watch     errored   LOW        kubernetes  Anomaly         bob    - - U F            0
    api-05  Support bot       launching MODERATE   datarobot   TextGeneration  carol  - - - -            7 @200
    api-06  Loan approval     active    HIGH       aws         Binary          carol  P W P W         1000 @300
    api-07  Retired model     deleted   (not listed)                           alice  F F F F         9999
    api-08  Erased model      erased    (not listed)                           alice
    api-09  Ticket router     active    CRITICAL   onPremise   Multiclass      bob    P P ? P           50 @90
    api-10  Zeta ranker       active    LOW        snowflake   Regression      alice  P - W -          250 @100

(P passing, W warning, F failing, U unavailable, ? reported unknown, - never reported; @n = minutes after T0.)
Access: api-02 also owned by bob; api-04 shared with alice as USER; api-05 with group ml-team as USER;
api-06 with alice as CONSUMER; api-09 also owned by alice; api-10 with bob as USER and carol as CONSUMER.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
import pytest_asyncio

from shared.contract import events as ev
from shared.contract.events.values import (
    DeploymentStatus,
    Importance,
    Platform,
    PredictionEnvironment,
    PrincipalType,
    Role,
    Tag,
    TargetType,
)
from shared.contract.messages import Message
from tests.fixtures.infra import delete_namespace_topics, new_namespace
from tests.fixtures.inventory import RunningService, running_inventory, settings_for
from tests.infra import Infra
from tests.support import Publisher, applied, at, created, eventually, health_report, package, predictions

pytestmark = pytest.mark.integration

ALL = ["api-01", "api-02", "api-03", "api-04", "api-05", "api-06", "api-09", "api-10"]
BY_LABEL = ["api-04", "api-01", "api-02", "api-06", "api-03", "api-05", "api-09", "api-10"]
SEEN_BY = {
    "admin-token": ALL,
    "alice-token": ["api-01", "api-02", "api-03", "api-04", "api-09", "api-10"],
    "bob-token": ["api-02", "api-04", "api-05", "api-09", "api-10"],
    "carol-token": ["api-05", "api-06"],
}


def deployment(
    number: int,
    label: str,
    description: str,
    importance: Importance,
    platform: Platform,
    target_type: TargetType,
    *,
    created_by: str = "alice",
    owners: tuple[str, ...] = (),
    tags: tuple[Tag, ...] = (),
    status: DeploymentStatus = DeploymentStatus.ACTIVE,
    minutes: float = 0,
) -> ev.DeploymentCreated:
    deployment_id = f"api-{number:02d}"
    return created(
        deployment_id,
        label=label,
        description=description,
        importance=importance,
        status=status,
        model_package=package(f"pkg-{deployment_id}", target_type),
        prediction_environment=PredictionEnvironment(id=f"env-{platform}", name=str(platform), platform=platform),
        created_by=created_by,
        owners=owners,
        tags=tags,
        created_at=at(minutes),
    )


def tag(name: str, value: str = "") -> Tag:
    return Tag(name=name, value=value)


def share(deployment_id: str, principal: str, role: Role, group: bool = False) -> ev.DeploymentShared:
    kind = PrincipalType.GROUP if group else PrincipalType.USER
    return ev.DeploymentShared(deployment_id=deployment_id, principal=principal, principal_type=kind, role=role)


def fleet() -> list[tuple[Message, datetime | None]]:
    M, H, C = Importance.MODERATE, Importance.HIGH, Importance.CRITICAL
    creations = [
        deployment(1, "Churn scorer", "Scores customers for churn", M, Platform.AWS, TargetType.BINARY,
                   tags=(tag("team", "growth"), tag("pii")), minutes=0),
        deployment(2, "fraud detector", "Flags card fraud", C, Platform.GCP, TargetType.BINARY,
                   owners=("bob",), tags=(tag("team", "risk"),), minutes=10),
        deployment(3, "Price forecaster", "Predicts basket value after CHURN", H, Platform.AZURE,
                   TargetType.REGRESSION, tags=(tag("team", "growth"),), minutes=20),
        deployment(4, "Anomaly watch", "Finds odd sensor readings", Importance.LOW, Platform.KUBERNETES,
                   TargetType.ANOMALY, created_by="bob", minutes=30),
        deployment(5, "Support bot", "Answers tickets", M, Platform.DATAROBOT, TargetType.TEXT_GENERATION,
                   created_by="carol", tags=(tag("env", "prod"),), status=DeploymentStatus.LAUNCHING, minutes=40),
        deployment(6, "Loan approval", "Approves small loans", H, Platform.AWS, TargetType.BINARY,
                   created_by="carol", tags=(tag("pii"),), minutes=50),
        deployment(7, "Retired model", "Scores customers for churn", C, Platform.AWS, TargetType.BINARY,
                   minutes=60),
        deployment(8, "Erased model", "Scores customers for churn", C, Platform.AWS, TargetType.BINARY,
                   minutes=65),
        deployment(9, "Ticket router", "Routes support tickets", C, Platform.ON_PREMISE, TargetType.MULTICLASS,
                   created_by="bob", owners=("alice",), tags=(tag("team", "support"),), minutes=70),
        deployment(10, "Zeta ranker", "Ranks search results", Importance.LOW, Platform.SNOWFLAKE,
                   TargetType.REGRESSION, minutes=80),
    ]  # fmt: skip
    items: list[tuple[Message, datetime | None]] = [(message, at(minutes=n)) for n, message in enumerate(creations)]
    lifecycle: list[Message] = [
        ev.DeploymentDeactivated(deployment_id="api-03"),
        ev.DeploymentErrored(deployment_id="api-04", message="out of memory"),
        share("api-04", "alice", Role.USER),
        share("api-05", "ml-team", Role.USER, group=True),
        share("api-06", "alice", Role.CONSUMER),
        share("api-10", "bob", Role.USER),
        share("api-10", "carol", Role.CONSUMER),
        ev.DeploymentDeleted(deployment_id="api-07"),
        ev.DeploymentDeleted(deployment_id="api-08"),
        ev.DeploymentErased(deployment_id="api-08"),
    ]
    items += [(message, at(100)) for message in lifecycle]
    health = {
        "api-01": {"service": "passing", "drift": "passing", "accuracy": "passing", "fairness": "passing"},
        "api-02": {"service": "failing", "drift": "warning", "accuracy": "failing", "fairness": "passing"},
        "api-03": {"service": "warning", "drift": "failing", "accuracy": "warning"},
        "api-04": {"accuracy": "unavailable", "fairness": "failing"},
        "api-06": {"service": "passing", "drift": "warning", "accuracy": "passing", "fairness": "warning"},
        "api-07": {"service": "failing", "drift": "failing", "accuracy": "failing", "fairness": "failing"},
        "api-09": {"service": "passing", "drift": "passing", "accuracy": "unknown", "fairness": "passing"},
        "api-10": {"service": "passing", "accuracy": "warning"},
    }
    for deployment_id, reports in health.items():
        items += [(health_report(deployment_id, dim, status), at(150)) for dim, status in reports.items()]
    usage = [
        ("api-01", 100, 60),
        ("api-02", 200, 110),
        ("api-02", 300, 120),
        ("api-03", 30, 30),
        ("api-05", 7, 200),
        ("api-06", 1000, 300),
        ("api-07", 9999, 400),
        ("api-09", 50, 90),
        ("api-10", 250, 100),
    ]
    items += [(predictions(deployment_id, count, at(minutes)), None) for deployment_id, count, minutes in usage]
    return items


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def api(infra: Infra) -> AsyncIterator[RunningService]:
    """One inventory for the module, with the whole fleet applied before any test reads it."""
    namespace = new_namespace()
    publisher = Publisher(infra.kafka)
    await publisher.start()
    try:
        async with running_inventory(settings_for(infra, namespace)) as service:
            items = fleet()
            await publisher.emit_many(namespace, items)
            await publisher.stop()

            async def all_applied() -> None:
                assert applied(service.app) == len(items)

            await eventually(all_applied, within=60)
            yield service
    finally:
        await publisher.stop()
        await delete_namespace_topics(infra.kafka, namespace)


async def page(api: RunningService, token: str = "admin-token", **params: object) -> dict[str, Any]:
    response = await api.get("/deployments", token, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listed(api: RunningService, token: str = "admin-token", **params: object) -> list[str]:
    """Ids of every matching deployment, in the order the API returns them (one page of up to 100)."""
    body = await page(api, token, limit=100, **params)
    ids = [item["id"] for item in body["data"]]
    assert body["count"] == len(ids)
    assert body["next_offset"] is None
    return ids


async def test_the_fleet_is_listed_by_label_by_default(api: RunningService) -> None:
    body = await page(api)
    assert [item["id"] for item in body["data"]] == BY_LABEL
    assert (body["count"], body["offset"], body["limit"], body["next_offset"]) == (8, 0, 50, None)
    by_id = {item["id"]: item for item in body["data"]}
    assert {i: d["status"] for i, d in by_id.items()} == {
        "api-01": "active",
        "api-02": "active",
        "api-03": "inactive",
        "api-04": "errored",
        "api-05": "launching",
        "api-06": "active",
        "api-09": "active",
        "api-10": "active",
    }
    assert by_id["api-02"]["predictions"] == {"total": 500, "last_at": "2026-11-01T14:00:00Z"}
    assert by_id["api-04"]["predictions"] == {"total": 0, "last_at": None}


# ---------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # search: a case-insensitive substring of the label or the description
        ({"search": "churn"}, ["api-01", "api-03"]),
        ({"search": "CHURN"}, ["api-01", "api-03"]),
        ({"search": "TiCkEtS"}, ["api-05", "api-09"]),
        ({"search": "support"}, ["api-05", "api-09"]),
        ({"search": "fraud detector"}, ["api-02"]),
        ({"search": "c.urn"}, []),
        ({"search": "("}, []),
        # status, importance (any case; comma = OR)
        ({"status": "inactive,errored"}, ["api-04", "api-03"]),
        ({"status": "launching"}, ["api-05"]),
        ({"status": "ACTIVE"}, ["api-01", "api-02", "api-06", "api-09", "api-10"]),
        ({"importance": "critical"}, ["api-02", "api-09"]),
        ({"importance": "LOW,HIGH"}, ["api-04", "api-06", "api-03", "api-10"]),
        # health of each dimension
        ({"service_health": "failing,warning"}, ["api-02", "api-03"]),
        ({"service_health": "unknown"}, ["api-04", "api-05"]),
        ({"service_health": "passing"}, ["api-01", "api-06", "api-09", "api-10"]),
        ({"drift_health": "warning"}, ["api-02", "api-06"]),
        ({"drift_health": "failing"}, ["api-03"]),
        ({"drift_health": "unknown"}, ["api-04", "api-05", "api-10"]),
        ({"accuracy_health": "unavailable"}, ["api-04"]),
        ({"accuracy_health": "unknown"}, ["api-05", "api-09"]),
        ({"accuracy_health": "warning,failing"}, ["api-02", "api-03", "api-10"]),
        ({"fairness_health": "failing"}, ["api-04"]),
        ({"fairness_health": "passing"}, ["api-01", "api-02", "api-09"]),
        ({"fairness_health": "unknown,warning"}, ["api-06", "api-03", "api-05", "api-10"]),
        # platform and target type
        ({"platform": "aws"}, ["api-01", "api-06"]),
        ({"platform": "onPremise"}, ["api-09"]),
        ({"platform": "onpremise"}, ["api-09"]),
        ({"platform": "gcp,azure"}, ["api-02", "api-03"]),
        ({"target_type": "Regression"}, ["api-03", "api-10"]),
        ({"target_type": "binary"}, ["api-01", "api-02", "api-06"]),
        ({"target_type": "TextGeneration,Anomaly"}, ["api-04", "api-05"]),
        # owner, creator
        ({"owner": "bob"}, ["api-04", "api-02", "api-09"]),
        ({"owner": "carol"}, ["api-06", "api-05"]),
        ({"owner": "bob,carol"}, ["api-04", "api-02", "api-06", "api-05", "api-09"]),
        ({"owner": "nobody"}, []),
        ({"created_by": "alice"}, ["api-01", "api-02", "api-03", "api-10"]),
        ({"created_by": "bob,carol"}, ["api-04", "api-06", "api-05", "api-09"]),
        # tags: by name, or name:value
        ({"tag": "team"}, ["api-01", "api-02", "api-03", "api-09"]),
        ({"tag": "team:growth"}, ["api-01", "api-03"]),
        ({"tag": "pii"}, ["api-01", "api-06"]),
        ({"tag": "team:risk,env:prod"}, ["api-02", "api-05"]),
        ({"tag": "team:nobody"}, []),
        # last prediction and creation time: after is inclusive, before exclusive
        ({"last_prediction_after": "2026-11-01T13:40:00Z"}, ["api-02", "api-06", "api-05", "api-10"]),
        ({"last_prediction_before": "2026-11-01T13:40:00Z"}, ["api-01", "api-03", "api-09"]),
        (
            {"last_prediction_after": "2026-11-01T13:00:00Z", "last_prediction_before": "2026-11-01T14:00:00Z"},
            ["api-01", "api-09", "api-10"],
        ),
        ({"created_after": "2026-11-01T12:50:00Z"}, ["api-06", "api-09", "api-10"]),
        ({"created_after": "2026-11-01T13:50:00+01:00"}, ["api-06", "api-09", "api-10"]),
        ({"created_after": "2026-11-01T12:50:00"}, ["api-06", "api-09", "api-10"]),
        ({"created_before": "2026-11-01T12:20:00Z"}, ["api-01", "api-02"]),
        ({"created_before": "2026-11-01"}, []),
        ({"created_after": "2026-11-01", "created_before": "2026-11-02"}, BY_LABEL),
        # different filters are ANDed
        ({"status": "active", "platform": "aws"}, ["api-01", "api-06"]),
        ({"importance": "HIGH,CRITICAL", "platform": "gcp,azure"}, ["api-02", "api-03"]),
        ({"tag": "team", "service_health": "passing"}, ["api-01", "api-09"]),
        ({"search": "churn", "status": "active"}, ["api-01"]),
        ({"owner": "bob", "importance": "LOW"}, ["api-04"]),
    ],
)
async def test_each_filter(api: RunningService, params: dict[str, str], expected: list[str]) -> None:
    assert await listed(api, **params) == expected


async def test_a_filter_given_twice_is_the_same_as_a_comma_list(api: RunningService) -> None:
    response = await api.http.get(
        "/deployments", params=[("status", "inactive"), ("status", "errored")], headers=bearer("admin-token")
    )
    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["data"]] == ["api-04", "api-03"]


async def test_search_with_a_comma_list_matches_any_of_the_words(api: RunningService) -> None:
    # Comma lists are OR within a filter, for search as for every other filter.
    assert await listed(api, search="churn,fraud") == ["api-01", "api-02", "api-03"]


@pytest.mark.parametrize(
    ("token", "params", "expected"),
    [
        ("alice-token", {"role": "OWNER"}, ["api-01", "api-02", "api-03", "api-09", "api-10"]),
        ("alice-token", {"role": "user"}, ["api-04"]),
        ("alice-token", {"role": "OWNER,USER"}, ["api-04", "api-01", "api-02", "api-03", "api-09", "api-10"]),
        ("bob-token", {"role": "OWNER"}, ["api-04", "api-02", "api-09"]),
        ("bob-token", {"role": "USER"}, ["api-05", "api-10"]),
        ("carol-token", {"role": "OWNER"}, ["api-06", "api-05"]),
        ("carol-token", {"role": "USER"}, []),
        ("admin-token", {"role": "OWNER"}, []),
        # filters never widen what a caller sees
        ("alice-token", {"owner": "carol"}, []),
        ("alice-token", {"tag": "pii"}, ["api-01"]),
        ("bob-token", {"search": "tickets"}, ["api-05", "api-09"]),
        ("carol-token", {"platform": "aws"}, ["api-06"]),
    ],
)
async def test_role_filter_is_relative_to_the_caller(
    api: RunningService, token: str, params: dict[str, str], expected: list[str]
) -> None:
    assert await listed(api, token, **params) == expected


# ---------------------------------------------------------------- sorting and paging


@pytest.mark.parametrize(
    ("key", "ascending", "descending"),
    [
        ("label", BY_LABEL, BY_LABEL[::-1]),
        (
            "service_health",  # failing first; ties by id
            ["api-02", "api-03", "api-01", "api-06", "api-09", "api-10", "api-04", "api-05"],
            ["api-04", "api-05", "api-01", "api-06", "api-09", "api-10", "api-03", "api-02"],
        ),
        (
            "drift_health",
            ["api-03", "api-02", "api-06", "api-01", "api-09", "api-04", "api-05", "api-10"],
            ["api-04", "api-05", "api-10", "api-01", "api-09", "api-02", "api-06", "api-03"],
        ),
        (
            "accuracy_health",  # unavailable after unknown
            ["api-02", "api-03", "api-10", "api-01", "api-06", "api-05", "api-09", "api-04"],
            ["api-04", "api-05", "api-09", "api-01", "api-06", "api-03", "api-10", "api-02"],
        ),
        (
            "fairness_health",
            ["api-04", "api-06", "api-01", "api-02", "api-09", "api-03", "api-05", "api-10"],
            ["api-03", "api-05", "api-10", "api-01", "api-02", "api-09", "api-06", "api-04"],
        ),
        (
            "predictions",
            ["api-04", "api-05", "api-03", "api-09", "api-01", "api-10", "api-02", "api-06"],
            ["api-06", "api-02", "api-10", "api-01", "api-09", "api-03", "api-05", "api-04"],
        ),
        (
            "last_prediction",  # never predicted sorts as the oldest
            ["api-04", "api-03", "api-01", "api-09", "api-10", "api-02", "api-05", "api-06"],
            ["api-06", "api-05", "api-02", "api-10", "api-09", "api-01", "api-03", "api-04"],
        ),
        ("created", ALL, ALL[::-1]),
        (
            "importance",
            ["api-04", "api-10", "api-01", "api-05", "api-03", "api-06", "api-02", "api-09"],
            ["api-02", "api-09", "api-03", "api-06", "api-01", "api-05", "api-04", "api-10"],
        ),
    ],
)
async def test_each_sort_key_both_ways(
    api: RunningService, key: str, ascending: list[str], descending: list[str]
) -> None:
    assert await listed(api, sort=key) == ascending
    assert await listed(api, sort=f"-{key}") == descending


async def test_sorting_applies_within_what_the_caller_sees(api: RunningService) -> None:
    assert await listed(api, "alice-token", sort="-predictions") == [
        "api-02",
        "api-10",
        "api-01",
        "api-09",
        "api-03",
        "api-04",
    ]
    assert await listed(api, "bob-token", sort="service_health", status="active") == ["api-02", "api-09", "api-10"]


@pytest.mark.parametrize("sort", ["label", "-created", "importance", "-importance", "fairness_health", "-drift_health"])
@pytest.mark.parametrize("limit", [1, 3])
async def test_pages_cover_everything_once_in_order(api: RunningService, sort: str, limit: int) -> None:
    whole = await listed(api, sort=sort)
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        body = await page(api, sort=sort, offset=offset, limit=limit)
        assert (body["count"], body["offset"], body["limit"]) == (8, offset, limit)
        assert len(body["data"]) == min(limit, 8 - offset)
        seen += [item["id"] for item in body["data"]]
        expected_next = offset + limit if offset + limit < 8 else None
        assert body["next_offset"] == expected_next
        offset = body["next_offset"]
    assert seen == whole
    assert len(set(seen)) == 8


async def test_paging_of_a_filtered_list_and_past_the_end(api: RunningService) -> None:
    first = await page(api, status="active", sort="-predictions", limit=2)
    assert [item["id"] for item in first["data"]] == ["api-06", "api-02"]
    assert (first["count"], first["next_offset"]) == (5, 2)
    last = await page(api, status="active", sort="-predictions", limit=2, offset=4)
    assert [item["id"] for item in last["data"]] == ["api-09"]
    assert (last["count"], last["next_offset"]) == (5, None)
    beyond = await page(api, offset=20, limit=5)
    assert (beyond["data"], beyond["count"], beyond["next_offset"]) == ([], 8, None)


# ---------------------------------------------------------------- summary


def tile(
    passing: int = 0, warning: int = 0, failing: int = 0, unknown: int = 0, unavailable: int = 0
) -> dict[str, int]:
    return {"passing": passing, "warning": warning, "failing": failing, "unknown": unknown, "unavailable": unavailable}


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (
            "admin-token",
            {
                "deployments": 8,
                "active_deployments": 5,
                "inactive_deployments": 1,
                "by_status": {"active": 5, "inactive": 1, "errored": 1, "launching": 1},
                "service": tile(passing=4, warning=1, failing=1, unknown=2),
                "drift": tile(passing=2, warning=2, failing=1, unknown=3),
                "accuracy": tile(passing=2, warning=2, failing=1, unknown=2, unavailable=1),
                "fairness": tile(passing=3, warning=1, failing=1, unknown=3),
            },
        ),
        (
            "alice-token",
            {
                "deployments": 6,
                "active_deployments": 4,
                "inactive_deployments": 1,
                "by_status": {"active": 4, "inactive": 1, "errored": 1},
                "service": tile(passing=3, warning=1, failing=1, unknown=1),
                "drift": tile(passing=2, warning=1, failing=1, unknown=2),
                "accuracy": tile(passing=1, warning=2, failing=1, unknown=1, unavailable=1),
                "fairness": tile(passing=3, failing=1, unknown=2),
            },
        ),
        (
            "bob-token",
            {
                "deployments": 5,
                "active_deployments": 3,
                "inactive_deployments": 0,
                "by_status": {"active": 3, "errored": 1, "launching": 1},
                "service": tile(passing=2, failing=1, unknown=2),
                "drift": tile(passing=1, warning=1, unknown=3),
                "accuracy": tile(warning=1, failing=1, unknown=2, unavailable=1),
                "fairness": tile(passing=2, failing=1, unknown=2),
            },
        ),
        (
            "carol-token",
            {
                "deployments": 2,
                "active_deployments": 1,
                "inactive_deployments": 0,
                "by_status": {"active": 1, "launching": 1},
                "service": tile(passing=1, unknown=1),
                "drift": tile(warning=1, unknown=1),
                "accuracy": tile(passing=1, unknown=1),
                "fairness": tile(warning=1, unknown=1),
            },
        ),
    ],
)
async def test_summary_counts_only_what_the_caller_may_see(
    api: RunningService, token: str, expected: dict[str, Any]
) -> None:
    response = await api.get("/deployments/summary", token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {*expected, "predictions"}
    assert {key: body[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("token", "total"),
    [("admin-token", 1937), ("alice-token", 930), ("bob-token", 807), ("carol-token", 1007)],
)
async def test_summary_predictions_are_the_sum_over_what_the_caller_may_see(
    api: RunningService, token: str, total: int
) -> None:
    # Not the deleted api-07 (9999 predictions), nor deployments the caller cannot see.
    response = await api.get("/deployments/summary", token)
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == total


# ---------------------------------------------------------------- visibility


@pytest.mark.parametrize("token", list(SEEN_BY))
async def test_each_caller_lists_exactly_what_it_owns_or_uses(api: RunningService, token: str) -> None:
    assert sorted(await listed(api, token)) == SEEN_BY[token]


@pytest.mark.parametrize("token", list(SEEN_BY))
@pytest.mark.parametrize("deployment_id", [*ALL, "api-07"])
async def test_get_by_id_follows_the_same_visibility(api: RunningService, token: str, deployment_id: str) -> None:
    # A deleted deployment leaves the list but stays readable by id for those who could see it.
    readable = deployment_id in SEEN_BY[token] or (
        deployment_id == "api-07" and token in ("admin-token", "alice-token")
    )
    for path in (f"/deployments/{deployment_id}", f"/deployments/{deployment_id}/model-history"):
        response = await api.get(path, token)
        assert response.status_code == (200 if readable else 404), (path, response.text)
        if not readable:
            assert response.json() == {"detail": f"deployment {deployment_id!r} not found"}


async def test_consumers_and_strangers_get_404_like_a_missing_id(api: RunningService) -> None:
    missing = await api.get("/deployments/api-99", "alice-token")
    consumer = await api.get("/deployments/api-06", "alice-token")
    stranger = await api.get("/deployments/api-01", "carol-token")
    assert missing.status_code == consumer.status_code == stranger.status_code == 404
    assert consumer.json() == {"detail": "deployment 'api-06' not found"}


async def test_deleted_and_erased_deployments(api: RunningService) -> None:
    deleted = await api.get("/deployments/api-07", "alice-token")
    assert deleted.status_code == 200
    assert deleted.json()["status"] == "deleted"
    for token in ("admin-token", "alice-token"):
        assert (await api.get("/deployments/api-08", token)).status_code == 404
        assert "api-07" not in await listed(api, token)
        assert "api-08" not in await listed(api, token)
    assert await listed(api, search="Retired") == []


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("not-a-token"), bearer(""), {"Authorization": "Basic YWxpY2U6YWxpY2U="}, {"Authorization": "alice"}],
)
@pytest.mark.parametrize(
    "path", ["/deployments", "/deployments/summary", "/deployments/api-01", "/deployments/api-01/model-history"]
)
async def test_a_missing_or_unknown_token_is_401(api: RunningService, headers: dict[str, str], path: str) -> None:
    response = await api.http.get(path, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "missing or unknown bearer token"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


# ---------------------------------------------------------------- refused parameters


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ([("status", "exploded")], "status: 'exploded' is not one of"),
        ([("status", "deleted")], "status: 'deleted' is not one of"),
        ([("status", "erased")], "status: 'erased' is not one of"),
        ([("status", "")], "status: empty value"),
        ([("status", " , ")], "status: empty value"),
        ([("importance", "URGENT")], "importance: 'URGENT' is not one of"),
        ([("service_health", "great")], "service_health: 'great' is not one of"),
        ([("drift_health", "unavailable")], "drift_health: 'unavailable' is not one of"),
        ([("fairness_health", "unavailable")], "fairness_health: 'unavailable' is not one of"),
        ([("accuracy_health", "passing,meh")], "accuracy_health: 'meh' is not one of"),
        ([("platform", "mars")], "platform: 'mars' is not one of"),
        ([("target_type", "Clustering")], "target_type: 'Clustering' is not one of"),
        ([("role", "CONSUMER")], "role: 'CONSUMER' is not one of OWNER, USER"),
        ([("owner", "alice,,bob")], "owner: empty value"),
        ([("status", '{"$nin": []}')], "status: '{\"$nin\": []}' is not one of"),
        ([("last_prediction_after", "yesterday")], "last_prediction_after: 'yesterday' is not an ISO-8601"),
        ([("last_prediction_before", "2026-11-01T25:00")], "last_prediction_before: '2026-11-01T25:00' is not an"),
        ([("created_before", "2026-13-45")], "created_before: '2026-13-45' is not an ISO-8601"),
        ([("created_after", '{"$gt": 0}')], "created_after: '{\"$gt\": 0}' is not an ISO-8601"),
        ([("created_after", "2026-11-01,2026-11-02")], "created_after: give one date"),
        ([("sort", "colour")], "sort: 'colour' is not one of"),
        ([("sort", "--label")], "sort: '--label' is not one of"),
        ([("sort", "label"), ("sort", "created")], "sort: give it once"),
        ([("sort", '{"label": 1}')], "sort:"),
        ([("limit", "0")], "limit: must be between 1 and 1000"),
        ([("limit", "1001")], "limit: must be between 1 and 1000"),
        ([("limit", "ten")], "limit: 'ten' is not an integer"),
        ([("limit", "1e3")], "limit: '1e3' is not an integer"),
        ([("offset", "-1")], "offset: must be between 0 and"),
        ([("offset", "x")], "offset: 'x' is not an integer"),
        ([("statsu", "active")], "unknown query parameter(s): statsu"),
        ([("owner[$ne]", "x")], "unknown query parameter(s): owner[$ne]"),
        ([("$where", "1")], "unknown query parameter(s): $where"),
    ],
)
async def test_bad_parameters_are_400_with_the_reason(
    api: RunningService, params: list[tuple[str, str]], reason: str
) -> None:
    response = await api.http.get("/deployments", params=tuple(params), headers=bearer("alice-token"))
    assert response.status_code == 400, response.text
    assert reason in response.json()["detail"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("owner", '{"$ne": 1}'),
        ("created_by", '{"$gt": ""}'),
        ("tag", "[1]"),
        ("search", "$where"),
        ("search", '{"$regex": ".*"}'),
    ],
)
async def test_operator_looking_values_are_plain_values_that_match_nothing_here(
    api: RunningService, name: str, value: str
) -> None:
    # Strings are only ever values (and a search a literal pattern), so they are no reason to refuse.
    assert await listed(api, **{name: value}) == []


@pytest.mark.parametrize(
    "params",
    [
        [("offset", "99999999999999999999")],
        [("offset", "9223372036854775808")],
        [("search", "\x00")],
        [("search", "churn\x00")],
        [("tag", "a\x00b")],
        [("created_after", "0001-01-01")],
        [("created_before", "9999-12-31T23:59:59.999999+00:00")],
        [("search", "\\")],
        [("search", "a" * 5000)],
    ],
    ids=[
        "offset-over-2**64",
        "offset-over-int64",
        "search-nul",
        "search-with-nul",
        "tag-with-nul",
        "year-1",
        "year-9999",
        "search-backslash",
        "search-long",
    ],
)
async def test_odd_parameters_never_cause_a_server_error(api: RunningService, params: list[tuple[str, str]]) -> None:
    response = await api.http.get("/deployments", params=tuple(params), headers=bearer("alice-token"))
    assert response.status_code in (200, 400), response.text


# ---------------------------------------------------------------- OpenAPI


async def test_the_openapi_document_lists_the_routes(api: RunningService) -> None:
    response = await api.http.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Lifecycle inventory"
    paths = document["paths"]
    assert set(paths) == {
        "/deployments",
        "/deployments/summary",
        "/deployments/{deployment_id}",
        "/deployments/{deployment_id}/model-history",
        "/deployments/{deployment_id}/audit",
        "/healthz",
        "/readyz",
    }
    for path in [p for p in paths if p.startswith("/deployments")]:
        operation = paths[path]["get"]
        assert set(paths[path]) == {"get"}
        assert operation["security"] == [{"HTTPBearer": []}], path
        assert "200" in operation["responses"], path
    schemas = document["components"]["schemas"]
    assert {"DeploymentPage", "DeploymentOut", "Summary", "ModelHistoryOut"} <= set(schemas)
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
