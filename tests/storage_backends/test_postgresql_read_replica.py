"""Discovery reads go to the read replica, writes to the primary; a replica that goes away
sends the reads back to the primary with a warning.

The "replica" is a second database (``replica_postgres_dsn``) the test fills itself, so an
answer says where it came from: an agent only the replica holds is found only through it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from agentvault_registry.storage_backends.discovery import DiscoveryQuery
from agentvault_registry.storage_backends.postgresql import PostgresOptions, PostgresRecords
from agentvault_registry.storage_backends.spec import BackendContext
from agentvault_registry.storage_backends.testing.accounts_data import make_user
from agentvault_registry.storage_backends.testing.discovery_data import (
    add,
    found,
    make_listed_agent,
)

pytestmark = pytest.mark.postgres

CONTEXT = BackendContext(data_dir=Path("unused"), production=False)


def build(dsn: str, **options: object) -> PostgresRecords:
    return PostgresRecords.from_options(PostgresOptions().load({"dsn": dsn, **options}), CONTEXT)


@pytest.fixture
async def registry(
    fresh_postgres_dsn: str, replica_postgres_dsn: str
) -> AsyncIterator[PostgresRecords]:
    """Primary and replica hold one different agent each; the registry reads the replica."""
    replica_dsn = replica_postgres_dsn
    for dsn, name in ((fresh_postgres_dsn, "on-primary"), (replica_dsn, "on-replica")):
        seeding = build(dsn)
        await seeding.open()
        try:
            await seeding.migrate()
            alice = await seeding.create_user(make_user("alice"))
            await add(seeding, make_listed_agent(1, alice.id, name=name, capabilities=["chat"]))
        finally:
            await seeding.close()
    backend = build(fresh_postgres_dsn, read_replica_dsn=replica_dsn)
    await backend.open()
    yield backend
    await backend.close()


async def test_search_reads_the_replica(registry: PostgresRecords) -> None:
    assert await found(registry, DiscoveryQuery()) == ["on-replica"]


async def test_term_counts_read_the_replica(registry: PostgresRecords) -> None:
    counts = await registry.count_terms(DiscoveryQuery(), kind="capability")
    assert counts.counts == {"chat": 1}
    assert counts.exact


async def test_writes_go_to_the_primary(registry: PostgresRecords) -> None:
    async with registry.connection() as conn:
        developer_id = await conn.fetchval("SELECT developer_id FROM agents")
    await add(registry, make_listed_agent(2, developer_id, name="written", capabilities=["chat"]))
    async with registry.connection() as conn:
        names = await conn.fetch("SELECT name FROM agents ORDER BY name")
    assert [row["name"] for row in names] == ["on-primary", "written"]
    assert await found(registry, DiscoveryQuery()) == ["on-replica"]


async def test_reads_fall_back_to_the_primary_when_the_replica_is_gone(
    registry: PostgresRecords,
    postgres_server_dsn: str,
    replica_postgres_dsn: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = await asyncpg.connect(postgres_server_dsn)
    try:
        name = replica_postgres_dsn.rpartition("/")[2]
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    with caplog.at_level(logging.WARNING):
        assert await found(registry, DiscoveryQuery()) == ["on-primary"]
        await registry.ping()  # the primary alone is enough to be healthy
    assert "read replica" in caplog.text
    assert "reads go to the primary" in caplog.text
