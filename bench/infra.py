"""Kafka and database plumbing shared by the phases: checks, topic readiness, clean-up, progress lines."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from bench.config import ROOT, Config
from shared.contract.topology import Topics
from shared.messaging.admin import ensure_topics
from shared.storage.mongo import mongo_client


def say(message: str) -> None:
    """Progress on stderr, so stdout holds only the tables."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_mongo_url(url: str, socket_timeout_s: float) -> str:
    """The URL with a socket timeout, so a database that stops answering fails the run, not hangs it."""
    option = f"socketTimeoutMS={int(socket_timeout_s * 1000)}"
    if "?" in url:
        return f"{url}&{option}"
    return f"{url}{'' if url.endswith('/') else '/'}?{option}"


async def describe_database(cfg: Config) -> dict[str, Any]:
    """Fail fast with a hint if Kafka or the database is not there; else say what the database is:
    MongoDB, or FerretDB with its storage backend (read from how it explains a query)."""
    client = mongo_client(cfg.mongo_url)
    try:
        info = await asyncio.wait_for(client.admin.command("buildInfo"), 15)
        described: dict[str, Any] = {"url": cfg.mongo_url, "version": info.get("version")}
        if "ferretdbVersion" in info:
            probe = client["bench_probe"]
            await probe.t.insert_one({"_id": 1})
            explained = await probe.command({"explain": {"find": "t", "filter": {"_id": 1}}})
            await client.drop_database("bench_probe")
            plan = explained.get("queryPlanner", {}).get("Plan")
            described["ferretdb"] = _ferretdb_version(str(info["ferretdbVersion"]))
            described["backend"] = "SQLite" if isinstance(plan, list) else "PostgreSQL"
    except Exception as exc:
        raise SystemExit(f"database at {cfg.mongo_url} does not answer ({exc}); start it: make infra-up") from exc
    finally:
        await client.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=cfg.kafka)
    try:
        await asyncio.wait_for(admin.start(), 15)
        await admin.close()
    except Exception as exc:
        raise SystemExit(f"Kafka at {cfg.kafka} does not answer ({exc}); start it: make infra-up") from exc
    return described


def database_name(described: dict[str, Any]) -> str:
    if "ferretdb" in described:
        return f"FerretDB {described['ferretdb']} on {described['backend']}"
    return f"MongoDB {described['version']}"


def _ferretdb_version(reported: str) -> str:
    if reported != "unknown":
        return reported
    # The embedding build in infra/ferretdb does not stamp a version; the pin says which it is.
    with contextlib.suppress(OSError):
        for line in (ROOT / "infra/ferretdb/go.mod").read_text().splitlines():
            if "FerretDB/FerretDB " in line:
                return line.split()[-1]
    return "v1"


async def ready_topics(bootstrap: str, topics: Topics, partitions: int, within: float = 30) -> None:
    """Create the topics and wait until every partition has a leader (producing before only logs retries)."""
    await ensure_topics(bootstrap, topics, partitions)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.perf_counter() + within
        while time.perf_counter() < deadline:
            described = await admin.describe_topics(topics.all())
            if all(
                t.get("error_code", 0) == 0
                and t.get("partitions")
                and all(p.get("leader", -1) >= 0 and p.get("error_code", 0) == 0 for p in t["partitions"])
                for t in described
            ):
                return
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def cleanup(cfg: Config, databases: Sequence[str], topic_prefix: str) -> None:
    """Drop the run's own databases and topics (never anything else on the shared infrastructure)."""
    client = mongo_client(cfg.mongo_url)
    try:
        for name in databases:
            with contextlib.suppress(Exception):
                await client.drop_database(name)
    finally:
        await client.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=cfg.kafka)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        mine = [topic for topic in existing if topic.startswith(f"{topic_prefix}-")]
        if mine:
            await admin.delete_topics(mine)
    except Exception as exc:
        say(f"cleanup: topics not deleted ({exc})")
    finally:
        await admin.close()


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    return (out.stdout.strip() + ("+changes" if dirty.strip() else "")) or None
