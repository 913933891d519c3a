"""Kafka and database plumbing shared by the phases: checks, topic readiness, clean-up, progress lines."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from bench.config import ROOT, Config
from shared.contract.topology import Topics
from shared.storage.mongo import mongo_client


def say(message: str) -> None:
    """Progress on stderr, so stdout holds only the table."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_mongo_url(url: str, socket_timeout_s: float) -> str:
    """The URL with a socket timeout, so a database that stops answering fails the run, not hangs it."""
    option = f"socketTimeoutMS={int(socket_timeout_s * 1000)}"
    if "?" in url:
        return f"{url}&{option}"
    return f"{url}{'' if url.endswith('/') else '/'}?{option}"


async def check_infrastructure(cfg: Config) -> dict[str, Any]:
    """Fail fast with a hint if Kafka or the database is not there; returns the database's versions."""
    client = mongo_client(cfg.mongo_url)
    try:
        info = await asyncio.wait_for(client.admin.command("buildInfo"), 15)
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
    ferretdb = info.get("ferretdbVersion")
    if ferretdb == "unknown":  # the embedding build in infra/ferretdb does not stamp a version
        pinned = [line.split()[-1] for line in _lines(ROOT / "infra/ferretdb/go.mod") if "FerretDB/FerretDB " in line]
        ferretdb = f"{pinned[0]} (pinned in infra/ferretdb/go.mod)" if pinned else "v1 (version not reported)"
    return {"version": info.get("version"), "ferretdb": ferretdb}


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except OSError:
        return []


def ferretdb_cpu_seconds() -> float | None:
    """CPU time used so far by the local FerretDB, if it is the project's own (for a DB-bound check).
    It is the whole server's: other clients of the same FerretDB are counted too."""
    home = Path(os.getenv("LIFECYCLE_HOME", ROOT / ".local"))
    try:
        pid = int((home / "ferretdb" / "ferretdb.pid").read_text().strip())
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


async def wait_for_leaders(bootstrap: str, topics: Sequence[str], within: float = 30) -> None:
    """New topics take a moment to elect partition leaders; producing before that only logs retries."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.perf_counter() + within
        while time.perf_counter() < deadline:
            described = await admin.describe_topics(list(topics))
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


async def cleanup(cfg: Config, databases: Sequence[str], namespaces: Sequence[str]) -> None:
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
        mine = [t for ns in namespaces for t in Topics(ns).all() if t in existing]
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
    return out.stdout.strip() or None
