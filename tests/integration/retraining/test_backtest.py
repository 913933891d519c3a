"""The policy backtest on the real broker and database: over the same recorded drift reports, a draft
policy's backtest answers exactly the runs the live service started for the same policy (by event time,
with the same switches, minimum interval, stale and uninformative reports), and publishes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.contract.topology import Stream
from tests.fixtures.retraining import RunningRetraining
from tests.support import eventually, health_report

pytestmark = pytest.mark.integration

TRIGGER = {"type": "data_drift_decline", "status_still_in_decline": True, "min_interval_between_runs": "PT1H"}


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 1, hour, minute, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


REPORTS = [  # (dimension, status, event time, fires the policy created at 12:00?)
    ("drift", "warning", at(11, 0), False),  # before the policy: the baseline only
    ("drift", "passing", at(12, 10), False),
    ("drift", "warning", at(12, 20), True),  # declined to warning
    ("drift", "failing", at(12, 40), False),  # declined to failing, but within the hour
    ("drift", "failing", at(13, 30), True),  # still in decline, an hour after 12:20
    ("drift", "unknown", at(13, 45), False),  # says nothing
    ("drift", "passing", at(14, 0), False),
    ("drift", "warning", at(14, 10), False),  # within the hour after 13:30
    ("drift", "failing", at(14, 40), True),  # declined to failing
    ("accuracy", "failing", at(15, 0), False),  # another dimension
    ("drift", "failing", at(12, 30), False),  # arrives late: stale
    ("drift", "warning", at(15, 50), True),  # failing -> warning: still in decline
]


async def test_a_backtest_answers_what_the_live_service_fired_over_the_same_reports(
    retraining: RunningRetraining,
) -> None:
    await retraining.configured("d-1")
    await retraining.configured("d-2")
    policy_id = await retraining.policy("d-1", TRIGGER, model_action="create_model_package")
    retraining.clock.set(at(18, 0))
    ids = []
    for dimension, status, when, _ in REPORTS:
        ids.append((await retraining.emit(health_report("d-1", dimension, status), time=when)).id)
        await retraining.emit(health_report("d-2", dimension, "failing"), time=when)  # another deployment's
    expected = [(iso(when), event_id) for (_, _, when, fires), event_id in zip(REPORTS, ids, strict=True) if fires]

    async def live_runs() -> list[dict[str, Any]]:
        runs = [r for r in await retraining.runs("d-1") if r["policy_id"] == policy_id]
        assert len(runs) >= len(expected), runs
        return runs

    live = await eventually(live_runs)
    assert sorted((r["triggered_at"], r["cause_event_id"]) for r in live) == expected
    assert [r["cause"] for r in live] == [
        "declined_to_warning",
        "still_in_decline",
        "declined_to_failing",
        "still_in_decline",
    ]
    await retraining.published("RetrainingRunStarted", count=4)
    published_before = len(await retraining.topic(Stream.DEPLOYMENT)), len(await retraining.topic(Stream.TRAINING_JOBS))

    answer = await backtest(retraining, TRIGGER, at(12, 0), at(18, 0))
    fired = [(f["at"], f["cause"], f["report_event_id"]) for f in answer["fires"]]
    assert fired == [(r["triggered_at"], r["cause"], r["cause_event_id"]) for r in live]
    assert (answer["runs"], answer["truncated"]) == (4, False)
    assert answer["reports"] == len(REPORTS)  # d-1's, not d-2's

    # Other drafts over the same reports: the switches and the interval decide.
    quiet = await backtest(retraining, {**TRIGGER, "status_still_in_decline": False}, at(12, 0), at(18, 0))
    assert [f["at"] for f in quiet["fires"]] == [iso(at(12, 20)), iso(at(14, 10))]
    eager = await backtest(retraining, {**TRIGGER, "min_interval_between_runs": None}, at(12, 0), at(18, 0))
    assert [f["at"] for f in eager["fires"]] == [
        iso(t) for t in (at(12, 20), at(12, 40), at(13, 30), at(14, 10), at(14, 40), at(15, 50))
    ]
    later = await backtest(retraining, TRIGGER, at(13, 0), at(15, 0))  # 12:40's failing is the baseline
    assert [(f["at"], f["cause"]) for f in later["fires"]] == [
        (iso(at(13, 30)), "still_in_decline"),
        (iso(at(14, 40)), "declined_to_failing"),
    ]
    nightly = {"type": "schedule", "schedule": {"minute": [0], "hour": [2]}}
    schedule = await backtest(retraining, nightly, at(0, 0).replace(day=1), at(0, 0).replace(day=8))
    assert [f["at"][:10] for f in schedule["fires"]] == [f"2026-11-0{day}" for day in range(1, 8)]

    assert (
        len(await retraining.topic(Stream.DEPLOYMENT)),
        len(await retraining.topic(Stream.TRAINING_JOBS)),
    ) == published_before


async def test_a_backtest_is_for_those_who_see_the_deployment_and_a_valid_range(retraining: RunningRetraining) -> None:
    await retraining.configured("d-1")
    body = {"trigger": TRIGGER, "start": "2026-11-01T12:00:00Z", "end": "2026-11-01T18:00:00Z"}
    path = "/deployments/d-1/retraining-policies:backtest"
    assert (await retraining.request("POST", path, body, "bob-token")).status_code == 200
    assert (await retraining.request("POST", path, body, "carol-token")).status_code == 404
    assert (await retraining.request("POST", "/deployments/nope/retraining-policies:backtest", body)).status_code == 404
    for bad in (
        {**body, "start": "2026-11-01T12:00:00"},  # no offset
        {**body, "start": 1700000000},
        {**body, "trigger": {"type": "schedule"}},
        {**body, "trigger": {"type": "manual", "schedule": {}}},
        {**body, "extra": True},
    ):
        response = await retraining.request("POST", path, bad)
        assert response.status_code == 422, (bad, response.text)
    # Any range the document calls valid is answered: an empty one with nothing, a long one within
    # 2000-01-01 .. 2200-01-01 (JSON Schema cannot say "end after start", so the API need not refuse it).
    empty = await retraining.request("POST", path, {**body, "end": body["start"]})
    assert empty.status_code == 200, empty.text
    assert (empty.json()["runs"], empty.json()["fires"], empty.json()["reports"]) == (0, [], 0)
    long = await retraining.request(
        "POST", path, {**body, "start": "1970-01-01T00:00:00Z", "end": "9999-12-31T23:59:59Z"}
    )
    assert long.status_code == 200, long.text
    assert (long.json()["start"], long.json()["end"]) == ("2000-01-01T00:00:00Z", "2200-01-01T00:00:00Z")


async def backtest(retraining: RunningRetraining, trigger: dict[str, Any], start: datetime, end: datetime) -> Any:
    body = {"trigger": trigger, "start": iso(start), "end": iso(end)}
    return await retraining.read_post("/deployments/d-1/retraining-policies:backtest", body)
