from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from marshmallow import ValidationError

from agentvault_registry.core.errors import BackendError, ConfigError
from agentvault_registry.storage_backends.spec import BackendContext
from agentvault_registry.storage_backends.sqlite import (
    SqliteOptions,
    SqliteRecords,
    split_statements,
)
from agentvault_registry.storage_backends.testing import (
    AccountsConformance,
    ActivityConformance,
    AgentsConformance,
    DiscoveryConformance,
    FederationConformance,
    HealthConformance,
    OnboardingConformance,
    RecordsConformance,
)

Factory = Callable[[], SqliteRecords]


def context(data_dir: Path) -> BackendContext:
    return BackendContext(data_dir=data_dir, production=False)


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    return tmp_path / "records.sqlite3"


@pytest.fixture
def records_backend_factory(database_path: Path) -> Callable[[], SqliteRecords]:
    options = SqliteOptions().load({"path": str(database_path)})
    return lambda: SqliteRecords.from_options(options, context(database_path.parent))


@pytest.fixture
def tamper_migration_checksum(database_path: Path) -> Callable[[int], Awaitable[None]]:
    async def tamper(version: int) -> None:
        conn = sqlite3.connect(database_path)
        try:
            with conn:
                conn.execute(
                    "UPDATE schema_migrations SET checksum = ? WHERE version = ?",
                    ("0" * 64, version),
                )
        finally:
            conn.close()

    return tamper


class TestSqliteRecords(RecordsConformance):
    pass


@pytest.fixture
async def migrated_records(records_backend_factory: Factory) -> AsyncIterator[SqliteRecords]:
    backend = records_backend_factory()
    await backend.open()
    try:
        await backend.migrate()
        yield backend
    finally:
        await backend.close()


class TestSqliteAccounts(AccountsConformance):
    @pytest.fixture
    def records(self, migrated_records: SqliteRecords) -> SqliteRecords:
        return migrated_records


class TestSqliteAgents(AgentsConformance):
    @pytest.fixture
    def records(self, migrated_records: SqliteRecords) -> SqliteRecords:
        return migrated_records


class TestSqliteOnboarding(OnboardingConformance):
    @pytest.fixture
    def records(self, migrated_records: SqliteRecords) -> SqliteRecords:
        return migrated_records


class TestSqliteDiscovery(DiscoveryConformance):
    @pytest.fixture
    def records(self, migrated_records: SqliteRecords) -> SqliteRecords:
        return migrated_records


class TestSqliteFederation(FederationConformance):
    @pytest.fixture
    def records(self, migrated_records: SqliteRecords) -> SqliteRecords:
        return migrated_records


class TestSqliteHealth(HealthConformance):
    @pytest.fixture
    def records(self, migrated_records: SqliteRecords) -> SqliteRecords:
        return migrated_records


class TestSqliteActivity(ActivityConformance):
    @pytest.fixture
    def records(self, migrated_records: SqliteRecords) -> SqliteRecords:
        return migrated_records


# ------------------------------------------------------------------ backend-specific


async def test_open_switches_the_file_to_wal(
    records_backend_factory: Factory, database_path: Path
) -> None:
    backend = records_backend_factory()
    await backend.open()
    try:
        conn = sqlite3.connect(database_path)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        finally:
            conn.close()
    finally:
        await backend.close()


async def test_open_refuses_sqlite_without_the_full_text_module(
    records_backend_factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SqliteRecords, "full_text_module", "no_such_fts")
    backend = records_backend_factory()
    with pytest.raises(ConfigError, match="NO_SUCH_FTS") as caught:
        await backend.open()
    assert "\n" not in str(caught.value)
    await backend.close()


async def test_default_file_is_created_under_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "avreg-data"
    backend = SqliteRecords.from_options(SqliteOptions().load({}), context(data_dir))
    await backend.open()
    try:
        assert (data_dir / "registry.sqlite3").is_file()
        assert str(data_dir / "registry.sqlite3") in backend.describe()
    finally:
        await backend.close()


async def test_unopenable_file_gives_backend_error(tmp_path: Path) -> None:
    backend = SqliteRecords(tmp_path)  # a directory, not a database file
    with pytest.raises(BackendError):
        await backend.open()
    await backend.close()


async def test_get_meta_before_migrate_gives_backend_error(
    records_backend_factory: Factory,
) -> None:
    backend = records_backend_factory()
    await backend.open()
    try:
        with pytest.raises(BackendError):
            await backend.get_meta("instance_id")
    finally:
        await backend.close()


# -------------------------------------------------------------------------- options


def test_options_default_to_data_dir_file_and_five_second_busy_timeout() -> None:
    assert SqliteOptions().load({}) == {"path": None, "busy_timeout": 5.0}


@pytest.mark.parametrize(
    "options",
    [
        {"path": 5},
        {"path": ""},
        {"busy_timeout": "soon"},
        {"busy_timeout": True},
        {"busy_timeout": -1},
        {"colour": "blue"},
    ],
    ids=[
        "path-not-string",
        "path-empty",
        "timeout-not-number",
        "timeout-bool",
        "timeout-negative",
        "unknown-key",
    ],
)
def test_options_refuse_bad_values(options: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SqliteOptions().load(options)


# ----------------------------------------------------------------- statement splitting


def test_split_statements_keeps_semicolons_inside_strings_and_triggers() -> None:
    script = (
        "CREATE TABLE t (x TEXT);\n"
        "INSERT INTO t VALUES ('a;b');\n"
        "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;\n"
    )
    assert split_statements(script) == [
        "CREATE TABLE t (x TEXT);",
        "INSERT INTO t VALUES ('a;b');",
        "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;",
    ]
