"""Two registry processes on one PostgreSQL and one Redis behave as one registry."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request

import pytest

from agentvault_registry.storage_backends.postgresql import MIGRATION_LOCK_KEY
from support import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

MIGRATION_LOG = "applied migration"


def start_registry(tmp_path, name, port, dsn, redis_url, key_prefix):
    env = {key: value for key, value in os.environ.items() if not key.startswith("AVREG_")}
    env.update(
        {
            "AVREG_MODE": "production",
            "AVREG_SECURITY__JWT_SECRET": "p" * 48,
            "AVREG_STORAGE__RECORDS__BACKEND": "postgresql",
            "AVREG_STORAGE__RECORDS__DSN": dsn,
            "AVREG_STORAGE__CACHE__BACKEND": "redis",
            "AVREG_STORAGE__CACHE__URL": redis_url,
            "AVREG_STORAGE__CACHE__KEY_PREFIX": key_prefix,
            "AVREG_STORAGE__BLOBS__ROOT": str(tmp_path / "blobs"),
            "AVREG_DATA_DIR": str(tmp_path / name),
        }
    )
    log = (tmp_path / f"{name}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "agentvault_registry", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, log


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, json.loads(response.read())


async def wait_ready(port, process):
    for _ in range(150):
        if process.poll() is not None:
            raise AssertionError(f"registry on {port} exited with {process.returncode}")
        try:
            return await asyncio.to_thread(get_json, f"http://127.0.0.1:{port}/ready")
        except OSError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"registry on {port} never became ready")


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
    ports = [free_port(), free_port()]
    started = [
        start_registry(
            tmp_path, f"worker{i}", port, fresh_postgres_dsn, redis_server_url, redis_key_prefix
        )
        for i, port in enumerate(ports)
    ]
    try:
        await wait_for_lock_waiters(gate, 2)
        await gate.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        answers = [
            await wait_ready(port, process)
            for port, (process, _) in zip(ports, started, strict=True)
        ]
    finally:
        await gate.close()
        for process, log in started:
            process.terminate()
            process.wait(15)
            log.close()

    assert [status for status, _ in answers] == [200, 200]
    instance_ids = {body["instance_id"] for _, body in answers}
    assert len(instance_ids) == 1, "both processes must share one registry identity"

    logs = [(tmp_path / f"worker{i}.log").read_text() for i in range(2)]
    applied = [line for log in logs for line in log.splitlines() if MIGRATION_LOG in line]
    connection = await asyncpg.connect(fresh_postgres_dsn)
    try:
        versions = await connection.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await connection.close()
    assert len(applied) == len(versions) >= 1, applied
    assert len({line.split(MIGRATION_LOG)[1] for line in applied}) == len(applied)
