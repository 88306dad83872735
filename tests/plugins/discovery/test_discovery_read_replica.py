"""Through the HTTP API: discovery answers come from the read replica, writes land on the
primary. The replica is a second database holding an agent the primary lacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from discovery_helpers import account, app_overrides, names

from agentvault_registry.storage_backends.postgresql import PostgresOptions, PostgresRecords
from agentvault_registry.storage_backends.spec import BackendContext
from agentvault_registry.storage_backends.testing.accounts_data import make_user
from agentvault_registry.storage_backends.testing.discovery_data import add, make_listed_agent

pytestmark = pytest.mark.postgres

SEARCH = "/api/v1/discovery/agents"


async def seed_replica(dsn: str) -> None:
    options = PostgresOptions().load({"dsn": dsn})
    replica = PostgresRecords.from_options(options, BackendContext(Path("unused"), False))
    await replica.open()
    try:
        await replica.migrate()
        owner = await replica.create_user(make_user("replica-owner"))
        agent = make_listed_agent(1, owner.id, name="Only on replica", capabilities=["mirror"])
        await add(replica, agent)
    finally:
        await replica.close()


@pytest.fixture
async def replica_client(aiohttp_client, make_app, fresh_postgres_dsn, replica_postgres_dsn):
    await seed_replica(replica_postgres_dsn)
    records = {
        "backend": "postgresql",
        "dsn": fresh_postgres_dsn,
        "read_replica_dsn": replica_postgres_dsn,
    }
    return await aiohttp_client(make_app(app_overrides(storage={"records": records})))


async def test_search_and_capability_counts_come_from_the_replica(replica_client) -> None:
    headers, _ = await account(replica_client, "ada")
    created = await replica_client.post(
        "/api/v1/agents",
        json={
            "name": "Only on primary",
            "description": "Written through the API.",
            "apiEndpoints": ["https://primary.example.net/a2a"],
            "capabilities": ["chat"],
        },
        headers=headers,
    )
    assert created.status == 201
    found = await replica_client.get(SEARCH)
    assert found.status == 200
    assert names(await found.json()) == ["Only on replica"]
    counts = await (await replica_client.get("/api/v1/discovery/capabilities")).json()
    assert counts["capabilities"] == [{"capability": "mirror", "count": 1}]
    # The write itself is on the primary: the agent is there to read back by id.
    shown = await replica_client.get(created.headers["Location"])
    assert shown.status == 200
