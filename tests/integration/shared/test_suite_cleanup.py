"""The suite's end removes what its tests left of their namespaces on the stack (topics, databases), and
nothing of anyone else's: `make test` may run beside `make run` and other sessions' tests."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.storage.mongo import mongo_client
from tests.fixtures.infra import delete_namespace_topics, new_namespace, remove_leftovers
from tests.infra import Infra


async def test_the_leftovers_of_handed_out_namespaces_are_removed_and_nothing_else(infra: Infra) -> None:
    ours, theirs = new_namespace(), new_namespace("other")
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka)
    await admin.start()
    client = mongo_client(infra.mongo_url)
    try:
        await admin.create_topics([NewTopic(f"{ns}.deployment", 1, 1) for ns in (ours, theirs)])
        for ns in (ours, theirs):
            await client[f"inv_{ns}"]["deployments"].insert_one({"_id": "d-1"})

        found, remaining = await remove_leftovers(infra, {ours})

        assert (found, remaining) == ([f"{ours}.deployment", f"database inv_{ours}"], [])
        topics = set(await admin.list_topics())
        assert f"{ours}.deployment" not in topics and f"{theirs}.deployment" in topics
        databases = await client.list_database_names()
        assert f"inv_{ours}" not in databases and f"inv_{theirs}" in databases
    finally:
        await client.drop_database(f"inv_{theirs}")
        await client.close()
        await admin.close()
        await delete_namespace_topics(infra.kafka, theirs)
