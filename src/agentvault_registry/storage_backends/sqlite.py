"""The embedded records backend: one SQLite file through aiosqlite (WAL, FTS5)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sqlite3
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiosqlite
from marshmallow import RAISE, Schema, fields, validate

from agentvault_registry.core.errors import BackendError, ConfigError
from agentvault_registry.storage_backends.base import (
    AppliedMigration,
    RecordsBackend,
    translate_errors,
)
from agentvault_registry.storage_backends.migrations import (
    Migration,
    load_migrations,
    pending_migrations,
)
from agentvault_registry.storage_backends.spec import BackendContext
from agentvault_registry.storage_backends.sqlite_accounts import SqliteAccounts
from agentvault_registry.storage_backends.sqlite_activity import SqliteActivity
from agentvault_registry.storage_backends.sqlite_agents import SqliteAgents
from agentvault_registry.storage_backends.sqlite_discovery import SqliteDiscovery
from agentvault_registry.storage_backends.sqlite_federation import SqliteFederation
from agentvault_registry.storage_backends.sqlite_health import SqliteHealth
from agentvault_registry.storage_backends.sqlite_onboarding import SqliteOnboarding

# aiosqlite logs every statement with its parameter values at DEBUG: password hashes and
# token digests would reach the logs whenever an operator turned DEBUG on.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

DEFAULT_FILE_NAME = "registry.sqlite3"
DEFAULT_BUSY_TIMEOUT = 5.0
PAGE_CACHE_KIB = 64 * 1024

_DRIVER_ERRORS = (sqlite3.Error, OSError)

_CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TIMESTAMP NOT NULL
)
"""


class SqliteOptions(Schema):
    """``[storage.records]`` options of the ``sqlite`` backend."""

    class Meta:
        unknown = RAISE

    #: The database file; ``<data_dir>/registry.sqlite3`` when unset.
    path = fields.String(load_default=None, validate=validate.Length(min=1))
    #: Seconds a writer waits for another process's write lock before giving up.
    busy_timeout = fields.Float(
        load_default=DEFAULT_BUSY_TIMEOUT, validate=validate.Range(min=0, max=600)
    )


class SqliteRecords(
    SqliteAccounts,
    SqliteAgents,
    SqliteDiscovery,
    SqliteOnboarding,
    SqliteFederation,
    SqliteHealth,
    SqliteActivity,
    RecordsBackend,
):
    """Records in one SQLite file, shared safely by several processes on one machine.

    One connection serves this process; an asyncio lock keeps each transaction to itself, so
    no coroutine ever reads another's uncommitted writes. Writes start with ``BEGIN IMMEDIATE``,
    which takes the file's write lock up front: concurrent writers in other processes wait
    ``busy_timeout`` for it instead of failing half-way through a transaction.
    """

    name = "sqlite"
    #: The full-text module discovery needs; a class attribute so tests can ask for a missing one.
    full_text_module = "fts5"

    def __init__(self, path: Path, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: BackendContext) -> SqliteRecords:
        path = options.get("path")
        return cls(
            Path(path).expanduser() if path else context.data_dir / DEFAULT_FILE_NAME,
            busy_timeout=options.get("busy_timeout", DEFAULT_BUSY_TIMEOUT),
        )

    def describe(self) -> str:
        return f"sqlite {self.path}"

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        with self._errors():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Fail here, in a plain thread, rather than inside aiosqlite: a failed
            # aiosqlite.connect leaves its worker thread to report to a loop that may be gone.
            await asyncio.to_thread(_probe, self.path)
            conn = await aiosqlite.connect(self.path, isolation_level=None)
            try:
                await self._configure(conn)
            except BaseException:
                await conn.close()
                raise
        self._conn = conn

    async def _configure(self, conn: aiosqlite.Connection) -> None:
        # busy_timeout first: switching to WAL needs a lock another process may hold.
        await conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        # SQLite's default page cache (2 MiB) holds fewer pages than a bulk import keeps
        # appending to (one per term of the search index): importing 300,000 agents took a
        # sixth longer with it. Index probes reuse the inner pages too.
        await conn.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
        await self._require_full_text_search(conn)

    async def _require_full_text_search(self, conn: aiosqlite.Connection) -> None:
        try:
            await conn.execute(
                f"CREATE VIRTUAL TABLE temp.avreg_fts_probe USING {self.full_text_module}(body)"
            )
        except sqlite3.OperationalError as exc:
            if "no such module" not in str(exc):
                raise
            raise ConfigError(
                f"the sqlite records backend needs SQLite's {self.full_text_module.upper()} "
                f"extension, which this Python's SQLite {sqlite3.sqlite_version} lacks; use a "
                "Python built with it or the postgresql backend"
            ) from None
        await conn.execute("DROP TABLE temp.avreg_fts_probe")

    async def close(self) -> None:
        # Under the lock, so a transaction in flight finishes before the connection goes.
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                with self._errors():
                    await conn.close()

    async def ping(self) -> None:
        await self._fetch("SELECT 1")

    # ----------------------------------------------------------------- migrations

    async def migrate(self) -> list[AppliedMigration]:
        known = load_migrations(self.name)
        applied = []
        while (record := await self._apply_next(known)) is not None:
            applied.append(record)
        await self._rebuild_stale_discovery_index()
        return applied

    async def _apply_next(self, known: list[Migration]) -> AppliedMigration | None:
        """Apply the first pending migration in its own transaction; None when up to date.

        Pending work is re-read inside each write transaction, so a migration another process
        applied meanwhile is never applied twice.
        """
        async with self._transaction() as conn:
            await conn.execute(_CREATE_MIGRATIONS_TABLE)
            pending = pending_migrations(known, await self._applied(conn))
            if not pending:
                return None
            migration = pending[0]
            for statement in split_statements(migration.sql):
                await conn.execute(statement)
            record = AppliedMigration(
                migration.version, migration.name, migration.checksum, dt.datetime.now(dt.UTC)
            )
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
                " VALUES (?, ?, ?, ?)",
                (record.version, record.name, record.checksum, record.applied_at.isoformat()),
            )
        return record

    async def applied_migrations(self) -> list[AppliedMigration]:
        async with self._locked() as conn:
            with self._errors():
                return await self._applied(conn)

    @staticmethod
    async def _applied(conn: aiosqlite.Connection) -> list[AppliedMigration]:
        tables = await conn.execute_fetchall(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        )
        if not tables:
            return []
        rows = await conn.execute_fetchall(
            "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
        )
        return [
            AppliedMigration(version, name, checksum, dt.datetime.fromisoformat(applied_at))
            for version, name, checksum, applied_at in rows
        ]

    # ----------------------------------------------------------------------- meta

    async def get_meta(self, key: str) -> str | None:
        rows = await self._fetch("SELECT value FROM registry_meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    async def put_meta_if_absent(self, key: str, value: str) -> str:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO registry_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (key, value),
            )
            rows = await conn.execute_fetchall(
                "SELECT value FROM registry_meta WHERE key = ?", (key,)
            )
        return rows[0][0]

    # -------------------------------------------------------------------- helpers

    def _errors(self) -> contextlib.AbstractContextManager[None]:
        return translate_errors(self.name, _DRIVER_ERRORS, (sqlite3.IntegrityError,))

    @contextlib.asynccontextmanager
    async def _locked(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            if self._conn is None:
                raise BackendError("The sqlite backend is not open.", backend=self.name)
            yield self._conn

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._locked() as conn:
            with self._errors():
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    await conn.execute("COMMIT")
                except BaseException:
                    # SQLite has already rolled back after some errors (a full disk); a COMMIT
                    # that fails (a deferred constraint, a busy reader) leaves the transaction
                    # open, and the connection would refuse every later BEGIN.
                    if conn.in_transaction:
                        await conn.execute("ROLLBACK")
                    raise

    @contextlib.asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        """One read transaction: every query in it sees the same database (a page and the
        count of its matches agree)."""
        async with self._locked() as conn:
            with self._errors():
                await conn.execute("BEGIN")
                try:
                    yield conn
                finally:
                    if conn.in_transaction:
                        await conn.execute("ROLLBACK")

    async def _fetch(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        async with self._locked() as conn:
            with self._errors():
                return list(await conn.execute_fetchall(sql, parameters))


def _probe(path: Path) -> None:
    """Open and close the database file once, so an unusable path raises sqlite3.Error."""
    sqlite3.connect(path).close()


def split_statements(script: str) -> list[str]:
    """Split a migration into single statements, keeping ``;`` inside strings and triggers.

    ``executescript`` would be simpler, but it commits the open transaction first, which would
    let two processes apply the same migration.
    """
    statements = []
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer[:-1].strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip(";").strip():
        # Unterminated: let SQLite report where, rather than dropping the text.
        statements.append(buffer)
    return statements
