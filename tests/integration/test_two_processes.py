"""Two registry processes on one PostgreSQL and one Redis behave as one registry."""

from __future__ import annotations

import asyncio

import pytest
from registry_processes import production_env, start_registry, wait_ready

from agentvault_registry.storage_backends.postgresql import MIGRATION_LOCK_KEY

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

MIGRATION_LOG = "applied migration"


async def wait_for_lock_waiters(connection, count):
    """Until ``count`` sessions queue for the migration lock, i.e. both processes race for it."""
    for _ in range(300):
        waiting = await connection.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )
        if waiting >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"only {waiting} process(es) ever waited for the migration lock")


async def test_two_processes_serve_and_migrate_once(
    tmp_path, fresh_postgres_dsn, redis_server_url, redis_key_prefix
):
    asyncpg = pytest.importorskip("asyncpg")
    gate = await asyncpg.connect(fresh_postgres_dsn)
    # Hold the migration lock so both processes are sure to be racing for it when it opens.
    await gate.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    env = production_env(fresh_postgres_dsn, redis_server_url, redis_key_prefix, tmp_path)
    started = [start_registry(tmp_path, f"worker{i}", env) for i in range(2)]
    try:
        await wait_for_lock_waiters(gate, 2)
        await gate.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        answers = [await wait_ready(registry) for registry in started]
    finally:
        await gate.close()
        for registry in started:
            registry.stop()

    assert [status for status, _ in answers] == [200, 200]
    instance_ids = {body["instance_id"] for _, body in answers}
    assert len(instance_ids) == 1, "both processes must share one registry identity"

    logs = [registry.log_path.read_text() for registry in started]
    applied = [line for log in logs for line in log.splitlines() if MIGRATION_LOG in line]
    connection = await asyncpg.connect(fresh_postgres_dsn)
    try:
        versions = await connection.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await connection.close()
    assert len(applied) == len(versions) >= 1, applied
    assert len({line.split(MIGRATION_LOG)[1] for line in applied}) == len(applied)
