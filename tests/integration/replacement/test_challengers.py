"""Challengers on the real broker and database: at most five, each a distinct registered package that
passes the checks and is not the champion; removed by id; promoted, a replacement by its package."""

from __future__ import annotations

import pytest

from tests.fixtures.replacement import RunningReplacement, registration

pytestmark = pytest.mark.integration


async def added(replacement: RunningReplacement, package: str) -> str:
    """Add a challenger and wait until it is; its id."""
    answer = await replacement.accepted("POST", "/deployments/d-1/challengers", {"model_package_id": package})
    status = await replacement.settled(answer["command_id"])
    assert status["status"] == "completed", status
    challenger_id: str = answer["challenger_id"]
    (event,) = await replacement.caused_by(answer["command_id"])
    assert (event.type, event.data["challenger_id"], event.data["model_package"]["id"]) == (
        "ChallengerAdded", challenger_id, package,
    )  # fmt: skip
    return challenger_id


async def test_challengers_are_added_up_to_five_distinct_packages_removed_and_promoted(
    replacement: RunningReplacement,
) -> None:
    packages = [f"pkg-c{n}" for n in range(1, 7)]
    await replacement.register(*(registration(package) for package in packages))
    await replacement.deployment("d-1")
    ids = [await added(replacement, package) for package in packages[:5]]
    history = await replacement.history("d-1")
    assert [(c["id"], c["model_package"]["id"], c["added_by"]) for c in history["challengers"]] == [
        (challenger_id, package, "alice") for challenger_id, package in zip(ids, packages, strict=False)
    ]

    path = "/deployments/d-1/challengers"
    status, code, problem = await replacement.refused(path, {"model_package_id": "pkg-c6"})
    assert (status, code) == (409, "challenger-limit") and "remove one first" in problem["detail"]
    status, code, problem = await replacement.refused(path, {"model_package_id": "pkg-c1"}, "bob-token")
    assert (status, code) == (409, "checks-failing")
    assert problem["detail"].startswith("not_current_model: pkg-c1 is challenger")
    status, code, problem = await replacement.refused(path, {"model_package_id": "pkg-1"})
    assert (status, code, problem["detail"]) == (409, "checks-failing", "not_current_model: pkg-1 is the current model")
    assert (await replacement.refused(path, {"model_package_id": "pkg-c6"}, "carol-token"))[:2] == (403, "forbidden")
    assert (await replacement.refused(path, {"model_package_id": "pkg-nope"}))[:2] == (404, "package-unknown")

    removed = await replacement.completed(f"{path}/{ids[4]}", method="DELETE")
    (event,) = await replacement.caused_by(removed)
    assert (event.type, event.data["challenger_id"], event.data["promoted"]) == ("ChallengerRemoved", ids[4], False)
    assert (await replacement.refused(f"{path}/{ids[4]}", method="DELETE"))[:2] == (404, "challenger-unknown")
    sixth = await added(replacement, "pkg-c6")

    promoted = await replacement.completed(f"{path}/{ids[0]}:promote", {"reason": "ACCURACY", "note": "wins the A/B"})
    replaced, left = await replacement.caused_by(promoted)
    assert (replaced.type, replaced.data["challenger_id"], replaced.data["model_package"]["id"]) == (
        "ModelReplaced", ids[0], "pkg-c1",
    )  # fmt: skip
    assert (left.type, left.data["challenger_id"], left.data["promoted"]) == ("ChallengerRemoved", ids[0], True)
    history = await replacement.history("d-1")
    assert history["champion"]["id"] == "pkg-c1"
    assert [c["id"] for c in history["challengers"]] == [*ids[1:4], sixth]
    last = history["history"][-1]
    assert (last["action"], last["challenger_id"], last["note"]) == ("promoted", ids[0], "wins the A/B")
    assert (await replacement.refused(f"{path}/{ids[0]}:promote", {"reason": "ACCURACY"}))[:2] == (
        404,
        "challenger-unknown",
    )
    assert (await replacement.request("POST", f"{path}/bad:id:promote", {"reason": "ACCURACY"})).status_code in (
        404,
        422,
    )
