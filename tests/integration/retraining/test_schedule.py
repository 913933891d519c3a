"""Schedule triggers on the real broker and database, with a clock the test moves: a run starts once
its cron time has come, due times missed meanwhile start one run, and two instances of the service
(one consumer group, one database, both scheduler loops sending) start one run per due time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.contract.envelope import derived_id
from tests.fixtures.retraining import ManualClock, RunningRetraining, retraining_settings_for, running_retraining
from tests.infra import Infra
from tests.support import Publisher, eventually

pytestmark = pytest.mark.integration

HOURLY = {"type": "schedule", "schedule": {"minute": [30]}}
"""Every hour at half past (UTC); the clock starts at 12:00."""


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 1, hour, minute, tzinfo=UTC)


async def scheduled_runs(retraining: RunningRetraining, count: int) -> list[dict[str, Any]]:
    async def there() -> list[dict[str, Any]]:
        runs = [r for r in await retraining.runs("d-1") if r["trigger"] == "schedule"]
        assert len(runs) == count, runs
        return runs

    return await eventually(there)


async def test_a_schedule_starts_a_run_when_its_time_comes_and_one_for_the_times_missed(
    retraining: RunningRetraining,
) -> None:
    assert retraining.clock.now == at(12, 0)
    await retraining.configured("d-1")
    policy_id = await retraining.policy("d-1", HOURLY, model_action="create_model_package")
    policy = await retraining.read(f"/deployments/d-1/retraining-policies/{policy_id}")
    assert policy["next_scheduled_at"] == "2026-11-01T12:30:00Z"

    retraining.clock.set(at(12, 29))
    assert await retraining.app.state.scheduler.tick() == 0
    assert await retraining.runs("d-1") == []

    retraining.clock.set(at(12, 31))
    [run] = await scheduled_runs(retraining, 1)
    assert (run["cause"], run["triggered_at"], run["started_at"]) == (
        "schedule",
        "2026-11-01T12:30:00Z",
        "2026-11-01T12:31:00Z",
    )
    assert run["started_by"] is None  # it acts as the retraining user
    assert retraining.sent("StartScheduledRun", by="tick") == 1  # found in its minute's slot

    retraining.clock.set(at(15, 45))  # 13:30, 14:30 and 15:30 passed while nobody looked
    first, missed = await scheduled_runs(retraining, 2)
    # Which look found the missed times (the sweep after the gap, or a batch's own wake-up) is a matter
    # of timing here; tests/unit/retraining/test_scheduler_looks.py pins the sweep. One run for them all:
    assert first["id"] == run["id"] and missed["triggered_at"] == "2026-11-01T15:30:00Z"
    # The first run's trainer (there is none) had ten minutes: it failed, and the next one trains.
    await retraining.run("d-1", first["id"], status="failed", error_code="training-timeout")
    await retraining.run("d-1", missed["id"], status="running", step="training")
    policy = await retraining.read(f"/deployments/d-1/retraining-policies/{policy_id}")
    assert (policy["next_scheduled_at"], policy["last_fired_at"]) == ("2026-11-01T16:30:00Z", "2026-11-01T15:30:00Z")
    starts = await retraining.published("RetrainingRunStarted", count=2)
    assert [e.data["triggered_at"] for e in starts] == ["2026-11-01T12:30:00Z", "2026-11-01T15:30:00Z"]


async def test_two_instances_start_one_run_per_due_time(
    infra: Infra, namespace: str, publisher: Publisher, clock: ManualClock
) -> None:
    # One consumer group and one database; the loops tick only when the test says, both at once.
    settings = retraining_settings_for(
        infra, namespace, scheduler={"interval_s": 3600, "resend_after_s": 60}, rules={"training_timeout": "P1D"}
    )
    async with (
        running_retraining(settings, publisher, clock) as one,
        running_retraining(settings, publisher, clock, drop=False) as other,
    ):
        await one.configured("d-1")
        await one.policy("d-1", HOURLY, model_action="create_model_package")
        await eventually(lambda: _knows_policy(other))

        for sent, due in enumerate((at(12, 30), at(13, 30)), start=1):
            before = (one.sent("StartScheduledRun"), other.sent("StartScheduledRun"))
            clock.set(due + timedelta(minutes=1))
            await both_tick(one, other)  # or a look right after a batch got there first: sent once all the same
            # Each instance sends the due run at most once (its resend window is a minute); usually both
            # race for it, but one may find it decided already. Either way the handler starts one run.
            each = (one.sent("StartScheduledRun") - before[0], other.sent("StartScheduledRun") - before[1])
            assert max(each) == 1 and min(each) in (0, 1), each
            runs = await scheduled_runs(one, sent)
            assert runs[-1]["triggered_at"] == due.isoformat().replace("+00:00", "Z")

        # Both sent the same command for each due time; the handler ran it once; nothing is due any more.
        command_id = derived_id(f"d-1/{runs[-1]['policy_id']}", f"scheduled/{at(13, 30).isoformat()}")
        status = await one.settled(command_id)
        assert status["status"] == "completed"
        await asyncio.sleep(0.5)
        starts = await one.published("RetrainingRunStarted", count=2)
        assert sorted(e.data["triggered_at"] for e in starts) == ["2026-11-01T12:30:00Z", "2026-11-01T13:30:00Z"]
        assert await both_tick(one, other) == [0, 0]


async def both_tick(one: RunningRetraining, other: RunningRetraining) -> list[int]:
    """One look of each instance's scheduler loop, at the same moment: the commands each sent."""
    return list(await asyncio.gather(one.app.state.scheduler.tick(), other.app.state.scheduler.tick()))


async def _knows_policy(service: RunningRetraining) -> None:
    assert len((await service.read("/deployments/d-1/retraining-policies"))["policies"]) == 1
