"""`lifecycle dlq list|show|redrive` against the real stack: letters listed with their reasons and filtered,
one shown whole, a letter re-driven and applied once its cause is fixed, and a failing re-drive that keeps
the letter pending and exits 1. A letter is published as the services publish them (the original record
plus the `dlq-*` headers)."""

from __future__ import annotations

import orjson
import pytest

from shared.contract.envelope import to_structured, wrap
from shared.contract.messages import Message
from shared.contract.topology import Topics
from tests.e2e.cli.runner import lifecycle
from tests.fixtures.inventory import RunningService
from tests.infra import Infra
from tests.support import Publisher, created, eventually, health_report

pytestmark = pytest.mark.integration


async def letter(
    publisher: Publisher,
    namespace: str,
    message: Message,
    *,
    letter_id: str,
    code: str,
    service: str = "inventory",
    source_topic: str | None = None,
    failed_at: str = "2026-11-01T12:00:00+00:00",
    copies: int = 1,
) -> None:
    topics = Topics(namespace)
    value, headers = to_structured(wrap(message, source="upstream"))
    source = source_topic or topics.for_stream(message.stream)
    letter_headers = [
        *headers,
        ("dlq-id", letter_id.encode()),
        ("dlq-error-code", code.encode()),
        ("dlq-error", f"refused: {code}".encode()),
        ("dlq-source-topic", source.encode()),
        ("dlq-source-partition", b"0"),
        ("dlq-source-offset", b"7"),
        ("dlq-service", service.encode()),
        ("dlq-failed-at", failed_at.encode()),
    ]
    for _ in range(copies):  # a crash between publishing a letter and recording it sends it twice
        await publisher.send(topics.dead_letters, value, message.subject.encode(), letter_headers)


async def test_letters_are_listed_with_reasons_filtered_and_shown_whole(
    publisher: Publisher, namespace: str, infra: Infra
) -> None:
    await letter(publisher, namespace, created("dl-1"), letter_id="aaaa-1", code="unknown-type", copies=2)
    await letter(
        publisher, namespace, health_report("dl-2", "drift", "failing"), letter_id="bbbb-2", code="bad-envelope",
        service="retraining", failed_at="2026-11-02T12:00:00+00:00",
    )  # fmt: skip

    listed = await lifecycle(infra, namespace, "dlq", "list", "--json")
    rows = listed.json()
    assert [(r["id"], r["code"], r["type"], r["status"]) for r in rows] == [
        ("aaaa-1", "unknown-type", "DeploymentCreated", "pending"),
        ("bbbb-2", "bad-envelope", "DriftDetected", "pending"),
    ]
    assert rows[0]["reason"] == "refused: unknown-type" and rows[0]["source"].endswith(".deployment[0]@7")
    for args, expected in [
        (("--service", "retraining"), ["bbbb-2"]),
        (("--code", "unknown-type"), ["aaaa-1"]),
        (("--type", "DriftDetected"), ["bbbb-2"]),
        (("--since", "2026-11-02T00:00:00Z"), ["bbbb-2"]),
        (("--until", "2026-11-02T00:00:00Z"), ["aaaa-1"]),
        (("--status", "redriven"), []),
    ]:
        found = await lifecycle(infra, namespace, "dlq", "list", "--json", *args)
        assert [r["id"] for r in found.json()] == expected, args
    table = await lifecycle(infra, namespace, "dlq", "list")
    assert table.code == 0 and "2 dead letters" in table.stdout and "unknown-type" in table.stdout

    shown = await lifecycle(infra, namespace, "dlq", "show", "bbbb", "--json")
    whole = shown.json()
    assert whole["payload"]["data"]["deployment_id"] == "dl-2"
    assert whole["headers"]["dlq-error-code"] == "bad-envelope"
    pretty = await lifecycle(infra, namespace, "dlq", "show", "bbbb")
    assert pretty.code == 0 and '"deployment_id": "dl-2"' in pretty.stdout
    missing = await lifecycle(infra, namespace, "dlq", "show", "zzzz")
    assert missing.code == 3 and missing.stderr.count("\n") == 1, missing.output
    bad_time = await lifecycle(infra, namespace, "dlq", "list", "--since", "yesterday")
    assert bad_time.code == 2, bad_time.output


async def test_a_re_driven_letter_is_applied_and_marked(
    inventory: RunningService, publisher: Publisher, namespace: str, infra: Infra
) -> None:
    await letter(publisher, namespace, created("dl-fixed"), letter_id="cccc-3", code="unknown-type")
    assert (await inventory.get("/deployments/dl-fixed")).status_code == 404

    dry = await lifecycle(infra, namespace, "dlq", "redrive", "--code", "unknown-type", "--json")
    assert [r["id"] for r in dry.json()["would_redrive"]] == ["cccc-3"]
    nothing = await lifecycle(infra, namespace, "dlq", "redrive")
    assert nothing.code == 2, nothing.output
    sent = await lifecycle(infra, namespace, "dlq", "redrive", "cccc", "--yes", "--json")
    assert [(r["id"], r["redriven"]) for r in sent.json()] == [("cccc-3", True)]

    async def applied() -> None:
        response = await inventory.get("/deployments/dl-fixed")
        assert response.status_code == 200
        assert orjson.loads(response.content)["label"] == "Deployment dl-fixed"

    await eventually(applied)
    listed = (await lifecycle(infra, namespace, "dlq", "list", "--json")).json()
    assert [(r["id"], r["status"], len(r["redrives"])) for r in listed] == [("cccc-3", "redriven", 1)]
    # Re-driven before: left out unless --again.
    again = await lifecycle(infra, namespace, "dlq", "redrive", "--all", "--yes", "--json")
    assert again.json() == [] and "re-driven before" in again.stderr


async def test_a_failing_re_drive_keeps_the_letter_and_exits_1(
    publisher: Publisher, namespace: str, infra: Infra
) -> None:
    gone = f"{namespace}.no-such-topic"
    await publisher.emit(namespace, created("dl-other"))  # the deployment topic exists; `gone` never did
    await letter(publisher, namespace, created("dl-gone"), letter_id="dddd-4", code="unknown-type", source_topic=gone)
    await letter(publisher, namespace, created("dl-ok"), letter_id="eeee-5", code="unknown-type")

    result = await lifecycle(infra, namespace, "dlq", "redrive", "--all", "--yes", "--json")
    assert result.code == 1, result.output
    attempts = {r["id"]: r for r in orjson.loads(result.stdout)}
    assert attempts["eeee-5"]["redriven"] and not attempts["dddd-4"]["redriven"]
    assert "no longer exists" in attempts["dddd-4"]["error"]
    assert "1 of 2 re-drives failed" in result.stderr
    listed = {r["id"]: r["status"] for r in (await lifecycle(infra, namespace, "dlq", "list", "--json")).json()}
    assert listed == {"dddd-4": "pending", "eeee-5": "redriven"}
