"""Waits until the broker answers a metadata request and the database answers ping.

Usage: python infra/ready.py [timeout_s]   (addresses from LIFECYCLE_KAFKA_PORT / LIFECYCLE_MONGO_PORT)
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient


async def kafka_answers(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    await admin.start()
    try:
        await admin.list_topics()
    finally:
        await admin.close()


async def database_answers(url: str) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(url, serverSelectionTimeoutMS=2000)
    try:
        await client.admin.command("ping")
    finally:
        await client.close()


async def main(within: float) -> int:
    bootstrap = f"127.0.0.1:{os.getenv('LIFECYCLE_KAFKA_PORT', '9092')}"
    mongo = f"mongodb://127.0.0.1:{os.getenv('LIFECYCLE_MONGO_PORT', '27017')}"
    deadline = time.monotonic() + within
    for name, check, address in (("kafka", kafka_answers, bootstrap), ("database", database_answers, mongo)):
        while True:
            try:
                await check(address)
                print(f"ready: {name} at {address}", file=sys.stderr)
                break
            except Exception as exc:
                if time.monotonic() > deadline:
                    print(f"not ready after {within:.0f}s: {name} at {address}: {exc}", file=sys.stderr)
                    return 1
                await asyncio.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 90)))
