"""Every table is either carried by a backup or declared derived, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentvault_registry.storage_backends.postgresql import PostgresOptions, PostgresRecords
from agentvault_registry.storage_backends.spec import BackendContext
from agentvault_registry.storage_backends.sqlite import SqliteRecords
from agentvault_registry.storage_backends.sqlite_backup import is_derived_table


@pytest.fixture
async def sqlite_records(tmp_path):
    records = SqliteRecords(tmp_path / "registry.sqlite3")
    await records.open()
    await records.migrate()
    yield records
    await records.close()


@pytest.fixture
async def postgres_records(fresh_postgres_dsn):
    context = BackendContext(data_dir=Path("avreg-data"), production=True)
    records = PostgresRecords.from_options(
        PostgresOptions().load({"dsn": fresh_postgres_dsn}), context
    )
    await records.open()
    await records.migrate()
    yield records
    await records.close()


async def test_sqlite_tables_are_exported_or_derived(sqlite_records):
    catalog = await sqlite_records.catalog_tables()
    exported = {table.name for table in await sqlite_records.backup_tables()}
    assert sqlite_records.derived_tables <= catalog, "a declared derived table no longer exists"
    assert exported == {name for name in catalog if not is_derived_table(name)}
    assert {"users", "agents", "api_keys", "agent_events", "registry_meta"} <= exported


@pytest.mark.postgres
async def test_postgresql_tables_are_exported_or_derived(postgres_records):
    catalog = await postgres_records.catalog_tables()
    exported = {table.name for table in await postgres_records.backup_tables()}
    assert postgres_records.derived_tables <= catalog, "a declared derived table no longer exists"
    assert exported == catalog - postgres_records.derived_tables


async def test_a_table_added_by_a_later_migration_is_exported(sqlite_records):
    async with sqlite_records._transaction() as conn:
        await conn.execute(
            "CREATE TABLE later_feature_rows (user_id TEXT REFERENCES users (id), day TEXT,"
            " searches INTEGER NOT NULL, recorded_at TEXT NOT NULL)"
        )
    tables = {table.name: table for table in await sqlite_records.backup_tables()}
    assert tables["later_feature_rows"].columns == {
        "user_id": "text",
        "day": "date",
        "searches": "integer",
        "recorded_at": "timestamp",
    }
    order = list(tables)
    assert order.index("users") < order.index("later_feature_rows")


@pytest.mark.postgres
async def test_both_backends_export_the_same_tables_with_the_same_column_kinds(
    sqlite_records, postgres_records
):
    """SQLite's kinds come from naming and CHECK conventions; PostgreSQL declares its types.
    A migration that breaks a convention (a boolean without IN (0, 1), a timestamp not named
    *_at) makes a backup carry the wrong value on one side: this catches it."""
    in_sqlite = {t.name: t.columns for t in await sqlite_records.backup_tables()}
    in_postgres = {t.name: t.columns for t in await postgres_records.backup_tables()}
    assert in_sqlite == in_postgres
