"""Time export-all from SQLite and import-all into PostgreSQL for a registry of N agents.

    AVREG_BENCH_POSTGRES_DSN=postgresql://postgres@127.0.0.1:5432/postgres \\
        PYTHONPATH=src python bench/backup_roundtrip.py 20000

The DSN's server gets a scratch database, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from agentvault_registry.backup.service import export_all, import_all
from agentvault_registry.storage_backends.filesystem_blobs import FilesystemBlobs
from agentvault_registry.storage_backends.postgresql import PostgresOptions, PostgresRecords
from agentvault_registry.storage_backends.spec import BackendContext
from agentvault_registry.storage_backends.sqlite import SqliteRecords
from agentvault_registry.storage_backends.testing.accounts_data import make_user
from agentvault_registry.storage_backends.testing.agents import make_agent


async def main(count: int, dsn: str) -> None:
    name = f"avreg_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    scratch = Path(tempfile.mkdtemp(prefix="avreg-bench-"))
    try:
        source = SqliteRecords(scratch / "source.sqlite3")
        await source.open()
        await source.migrate()
        user = await source.create_user(make_user("ada"))
        await source.import_agents([make_agent(n, user.id) for n in range(1, count + 1)])
        blobs = FilesystemBlobs(scratch / "blobs")
        await blobs.open()
        started = time.perf_counter()
        await export_all(source, blobs, scratch / "backup", lambda line: None)
        exported = time.perf_counter() - started
        await source.close()

        target_dsn = dsn.rsplit("/", 1)[0] + f"/{name}"
        context = BackendContext(data_dir=scratch, production=True)
        target = PostgresRecords.from_options(PostgresOptions().load({"dsn": target_dsn}), context)
        await target.open()
        target_blobs = FilesystemBlobs(scratch / "target-blobs")
        await target_blobs.open()
        started = time.perf_counter()
        await import_all(target, target_blobs, scratch / "backup", lambda line: None)
        imported = time.perf_counter() - started
        await target.close()
        await blobs.close()
        await target_blobs.close()
        size = sum(f.stat().st_size for f in (scratch / "backup").rglob("*") if f.is_file())
        print(
            "| agents | export-all (SQLite) | import-all (PostgreSQL, incl. reindex)"
            " | backup size |"
        )
        print("|---|---|---|---|")
        print(f"| {count} | {exported:.2f} s | {imported:.2f} s | {size / 1e6:.1f} MB |")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 10000, os.environ["AVREG_BENCH_POSTGRES_DSN"]
        )
    )
