"""`search` takes any text and matches it literally, through the real database: characters that mean
something in a regular expression or a query (`[`, `{`, `$`, `.`, `*`, `\\`) find exactly the
deployments whose label holds them, and nothing else."""

from __future__ import annotations

import pytest

from tests.fixtures.inventory import RunningService
from tests.support import Publisher, applied, created, eventually

pytestmark = pytest.mark.integration

LABELS = {
    "s-1": "a[b",
    "s-2": "ab",
    "s-3": "a b",
    "s-4": "x.*y",
    "s-5": 'json {"$gt": ""} here',
    "s-6": "back\\slash",
    "s-7": "$where",
}


async def listed(inventory: RunningService, search: str) -> list[str]:
    response = await inventory.get("/deployments", "admin-token", search=search, limit=100)
    assert response.status_code == 200, response.text
    return sorted(item["id"] for item in response.json()["data"])


async def test_hostile_text_finds_exactly_the_deployments_that_hold_it(
    inventory: RunningService, publisher: Publisher, namespace: str
) -> None:
    for deployment_id, label in LABELS.items():
        await publisher.emit(namespace, created(deployment_id, label=label, description="plain"))

    async def all_applied() -> None:
        assert applied(inventory.app) == len(LABELS)

    await eventually(all_applied)
    assert await listed(inventory, "a[b") == ["s-1"]
    assert await listed(inventory, "A[B") == ["s-1"]  # still case-insensitive
    assert await listed(inventory, "[") == ["s-1"]
    assert await listed(inventory, ".*") == ["s-4"]
    assert await listed(inventory, "$where") == ["s-7"]
    assert await listed(inventory, '{"$gt": ""}') == ["s-5"]
    assert await listed(inventory, "\\") == ["s-6"]
    assert await listed(inventory, "a b") == ["s-3"]
    assert await listed(inventory, "\x00") == []
    assert await listed(inventory, "a\x00b") == []
