"""Rollback and racing replacements on the real broker and database: a rollback goes back one champion
at a time through the same checks, with its reason in the model history; two replacements sent at once
on one deployment are decided in order, the second validated against the first's result."""

from __future__ import annotations

import pytest

from shared.contract.commands.replacement import ReplaceModel
from shared.contract.events.values import Feature
from tests.fixtures.replacement import RunningReplacement, actor_of, registration

pytestmark = pytest.mark.integration

AGE, PLAN = Feature(name="age", type="Numeric"), Feature(name="plan", type="Categorical")


async def test_rollbacks_walk_back_one_champion_at_a_time_until_the_first(replacement: RunningReplacement) -> None:
    await replacement.register(registration("pkg-2"), registration("pkg-3"))
    await replacement.deployment("d-1")
    for package in ("pkg-2", "pkg-3"):
        await replacement.completed(
            "/deployments/d-1/model:replace", {"model_package_id": package, "reason": "ACCURACY"}
        )

    rollback = {"reason": "ERRORS", "note": "5xx since the release"}
    first = await replacement.completed("/deployments/d-1/model:rollback", rollback, token="bob-token")
    (event,) = await replacement.caused_by(first)
    assert (event.type, event.data["rollback"], event.data["previous_model_package_id"]) == (
        "ModelReplaced",
        True,
        "pkg-3",
    )
    assert (event.data["model_package"]["id"], event.data["reason"], event.actor) == ("pkg-2", "ERRORS", "bob")
    await replacement.completed("/deployments/d-1/model:rollback", {"reason": "ERRORS"})

    history = await replacement.history("d-1")
    assert history["champion"]["id"] == "pkg-1"
    steps = [(e["action"], e["model_package"]["id"], e["reason"]) for e in history["history"]]
    assert steps == [
        ("deployed", "pkg-1", None),
        ("replaced", "pkg-2", "ACCURACY"),
        ("replaced", "pkg-3", "ACCURACY"),
        ("rolled_back", "pkg-2", "ERRORS"),
        ("rolled_back", "pkg-1", "ERRORS"),
    ]
    assert history["history"][3]["note"] == "5xx since the release"
    ends = [e["ended_at"] for e in history["history"]]
    assert ends[:-1] == [e["started_at"] for e in history["history"][1:]] and ends[-1] is None

    status, code, problem = await replacement.refused("/deployments/d-1/model:rollback", {"reason": "ERRORS"})
    assert (status, code) == (409, "nothing-to-roll-back") and "no previous champion" in problem["detail"]


async def test_two_replacements_at_once_are_decided_in_order_the_second_against_the_first(
    replacement: RunningReplacement,
) -> None:
    # Each is compatible with pkg-1 (a new feature, region, warns), but they disagree on region's type.
    region_categorical = registration("pkg-2", features=(AGE, Feature(name="region", type="Categorical")))
    region_numeric = registration("pkg-3", features=(AGE, PLAN, Feature(name="region", type="Numeric")))
    await replacement.register(region_categorical, region_numeric)
    await replacement.deployment("d-1")
    for package in ("pkg-2", "pkg-3"):
        dry = await replacement.post("/deployments/d-1/model:validate", {"model_package_id": package})
        assert dry.json()["status"] == "warning", dry.text

    alice = actor_of("alice-token")
    for command_id, package in (("c-first", "pkg-2"), ("c-second", "pkg-3")):
        await replacement.send(
            ReplaceModel(
                command_id=command_id, deployment_id="d-1", actor=alice, model_package_id=package, reason="ACCURACY"
            )
        )
    first, second = await replacement.settled("c-first"), await replacement.settled("c-second")
    assert first["status"] == "completed"
    assert (second["status"], second["code"]) == ("rejected", "checks-failing")
    assert "feature_data_types" in second["reason"] and "region (Categorical now, Numeric new)" in second["reason"]
    (rejected,) = await replacement.caused_by("c-second")
    assert (rejected.type, rejected.data["previous_model_package_id"]) == ("ModelReplacementRejected", "pkg-2")
    history = await replacement.history("d-1")
    assert history["champion"]["id"] == "pkg-2"
    assert [e["model_package"]["id"] for e in history["history"]] == ["pkg-1", "pkg-2"]
