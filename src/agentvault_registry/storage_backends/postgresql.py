"""The production records backend: PostgreSQL through asyncpg connection pools.

asyncpg comes with the ``postgres`` extra and is imported only when the backend opens, so the
registry runs without it when another records backend is selected.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from agentvault_registry.config.secrets import Secret, SecretField
from agentvault_registry.core.errors import BackendError, ConfigError
from agentvault_registry.storage_backends.base import (
    AppliedMigration,
    RecordsBackend,
    translate_errors,
)
from agentvault_registry.storage_backends.migrations import load_migrations, pending_migrations
from agentvault_registry.storage_backends.postgresql_accounts import PostgresAccounts
from agentvault_registry.storage_backends.postgresql_activity import PostgresActivity
from agentvault_registry.storage_backends.postgresql_agents import PostgresAgents
from agentvault_registry.storage_backends.postgresql_backup import PostgresBackup
from agentvault_registry.storage_backends.postgresql_discovery import (
    PostgresDiscovery,
    rebuild_index_if_outdated,
)
from agentvault_registry.storage_backends.postgresql_federation import PostgresFederation
from agentvault_registry.storage_backends.postgresql_health import PostgresHealth
from agentvault_registry.storage_backends.postgresql_onboarding import PostgresOnboarding
from agentvault_registry.storage_backends.spec import BackendContext

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

#: Key of the session advisory lock that serialises migrations across processes ("avreg_mg").
MIGRATION_LOCK_KEY = 0x6176_7265_675F_6D67
#: ``/ready`` must answer quickly even when the database hangs.
PING_TIMEOUT = 2.0
#: How long closing waits for connections to finish before cutting them.
CLOSE_TIMEOUT = 10.0

_CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Released connections need no reset: the registry leaves no session state behind (no
    SET, LISTEN, cursors or session advisory locks on pooled connections; the migration lock
    has its own connection). asyncpg still rolls back an open transaction. Skipping the
    default reset saves a round trip per request (bench/agents_api.py: GET p99 55 → ~22 ms)."""


def _require_asyncpg() -> ModuleType:
    try:
        return importlib.import_module("asyncpg")
    except ImportError:
        raise ConfigError(
            "the postgresql records backend needs asyncpg: "
            "pip install 'agentvault-registry[postgres]'"
        ) from None


def _driver_errors() -> tuple[type[BaseException], ...]:
    asyncpg = _require_asyncpg()
    # InterfaceError covers a connection that died under a query; OSError a refused or reset
    # socket; TimeoutError an acquire, connect or command that ran out of time.
    return (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


def _check_postgres_url(secret: Secret) -> None:
    # Messages never echo the value: it holds a password.
    dsn = secret.reveal()
    if not dsn.startswith(("postgresql://", "postgres://")):
        raise ValidationError("must be a postgresql:// URL.")
    try:
        netloc = urlsplit(dsn).netloc
    except ValueError:
        raise ValidationError("is not a valid URL (check the host).") from None
    for host in netloc.rpartition("@")[2].split(","):
        port = host.rpartition("]")[2] if host.startswith("[") else host
        port = port.partition(":")[2]
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            raise ValidationError("has an invalid port.")


def redact_dsn(dsn: str) -> str:
    """``scheme://user@host:port/db`` without the password or query parameters."""
    scheme, _, rest = dsn.partition("://")
    location, _, _ = rest.partition("?")
    userinfo, at, hosts = location.rpartition("@")
    user = userinfo.partition(":")[0]
    return f"{scheme}://{user}{at}{hosts}"


class PostgresOptions(Schema):
    """``[storage.records]`` options of the ``postgresql`` backend."""

    class Meta:
        unknown = RAISE

    dsn = SecretField(required=True, validate=_check_postgres_url)
    #: A hot standby for read-only discovery queries; the primary serves them when unset.
    read_replica_dsn = SecretField(load_default=None, validate=_check_postgres_url)
    min_size = fields.Integer(strict=True, load_default=1, validate=validate.Range(0, 1000))
    max_size = fields.Integer(strict=True, load_default=10, validate=validate.Range(1, 1000))
    #: Seconds to wait for a free pooled connection.
    acquire_timeout = fields.Float(
        load_default=5.0, validate=validate.Range(0, 600, min_inclusive=False)
    )
    #: Seconds one statement may run.
    command_timeout = fields.Float(
        load_default=30.0, validate=validate.Range(0, 3600, min_inclusive=False)
    )
    #: Seconds to establish one connection.
    connect_timeout = fields.Float(
        load_default=5.0, validate=validate.Range(0, 600, min_inclusive=False)
    )

    @validates_schema
    def _check_pool_bounds(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        if data.get("min_size", 1) > data.get("max_size", 10):
            raise ValidationError("must not exceed max_size.", "min_size")


class PostgresRecords(
    PostgresBackup,
    PostgresAccounts,
    PostgresAgents,
    PostgresDiscovery,
    PostgresOnboarding,
    PostgresFederation,
    PostgresHealth,
    PostgresActivity,
    RecordsBackend,
):
    """Records in PostgreSQL, shared by any number of registry processes.

    Connections broken by a server restart are dropped by the pool and replaced on the next
    acquire, so the registry recovers by itself; meanwhile every call raises BackendError.
    """

    name = "postgresql"

    def __init__(
        self,
        dsn: Secret,
        *,
        read_replica_dsn: Secret | None = None,
        min_size: int = 1,
        max_size: int = 10,
        acquire_timeout: float = 5.0,
        command_timeout: float = 30.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self._dsn = dsn
        self._read_replica_dsn = read_replica_dsn
        self._pool_size = (min_size, max_size)
        self._acquire_timeout = acquire_timeout
        self._command_timeout = command_timeout
        self._connect_timeout = connect_timeout
        self._pool: asyncpg.Pool | None = None
        self._replica_pool: asyncpg.Pool | None = None
        self._replica_warned_at: float | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: BackendContext) -> PostgresRecords:
        return cls(**options)

    def describe(self) -> str:
        description = f"postgresql {redact_dsn(self._dsn.reveal())}"
        if self._read_replica_dsn is not None:
            description += f" (read replica {redact_dsn(self._read_replica_dsn.reveal())})"
        return description

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        driver = _require_asyncpg()
        try:
            with self._errors():
                self._pool = await self._create_pool(driver, self._dsn)
                if self._read_replica_dsn is not None:
                    self._replica_pool = await self._create_pool(driver, self._read_replica_dsn)
            # With min_size 0 no connection was made yet; opening must still prove the servers,
            # the replica too: a wrong replica DSN shows at startup, not as warnings later.
            for pool in (self._primary(), self._replica_pool):
                if pool is not None:
                    await self._ping_pool(pool)
        except BaseException:
            await self.close()
            raise

    async def _create_pool(self, driver: ModuleType, dsn: Secret) -> asyncpg.Pool:
        from agentvault_registry.storage_backends.postgresql_connection import (
            RegistryConnection,
        )

        min_size, max_size = self._pool_size
        return await driver.create_pool(
            dsn.reveal(),
            min_size=min_size,
            max_size=max_size,
            timeout=self._connect_timeout,
            command_timeout=self._command_timeout,
            reset=_keep_session,
            connection_class=RegistryConnection,
        )

    async def close(self) -> None:
        pools = [pool for pool in (self._replica_pool, self._pool) if pool is not None]
        self._pool = self._replica_pool = None
        for pool in pools:
            try:
                await asyncio.wait_for(pool.close(), CLOSE_TIMEOUT)
            except asyncio.CancelledError:
                pool.terminate()
                raise
            except Exception:
                # A dead or hung server cannot take part in a graceful goodbye; cutting the
                # sockets still releases everything, which is all closing has to achieve.
                log.warning("closing the postgresql pool failed; terminating it", exc_info=True)
                pool.terminate()

    async def ping(self) -> None:
        """The primary answers. An unreachable replica only warns: reads fall back."""
        await self._ping_pool(self._primary())
        if self._replica_pool is not None:
            try:
                await self._ping_pool(self._replica_pool)
            except BackendError:
                self._warn_replica_down()

    async def _ping_pool(self, pool: asyncpg.Pool) -> None:
        with self._errors():
            async with pool.acquire(timeout=PING_TIMEOUT) as conn:
                await conn.fetchval("SELECT 1", timeout=PING_TIMEOUT)

    # ---------------------------------------------------------------- connections

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection to the primary; driver errors inside become BackendError."""
        async with self._acquire(self._primary()) as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def reader(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection for read-only queries: the read replica's, or the primary's if there
        is none or the replica cannot be reached (with a warning at most once a minute).

        Falling back keeps discovery answering through a replica outage; the primary holds
        everything the replica does, only fresher. A query that fails on the replica after
        the connection was taken is not repeated: it raises BackendError (503) as usual.
        """
        primary, replica_pool = self._primary(), self._replica_pool
        replica = await self._replica_connection(replica_pool)
        if replica_pool is None or replica is None:
            async with self._acquire(primary) as conn:
                yield conn
            return
        try:
            with self._errors():
                yield replica
        finally:
            await replica_pool.release(replica)

    async def _replica_connection(self, pool: asyncpg.Pool | None) -> asyncpg.Connection | None:
        if pool is None:
            return None
        try:
            return await pool.acquire(timeout=self._acquire_timeout)
        except _driver_errors():
            self._warn_replica_down()
            return None

    def _warn_replica_down(self) -> None:
        now = time.monotonic()
        if self._replica_warned_at is None or now - self._replica_warned_at >= 60:
            self._replica_warned_at = now
            log.warning(
                "the read replica %s is unreachable; reads go to the primary",
                redact_dsn(self._read_replica_dsn.reveal()) if self._read_replica_dsn else "",
                exc_info=True,
            )

    @contextlib.asynccontextmanager
    async def _acquire(self, pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
        with self._errors():
            async with pool.acquire(timeout=self._acquire_timeout) as conn:
                try:
                    yield conn
                except TimeoutError:
                    # A statement ran out of time: the server may hang. Releasing the
                    # connection would first wait (up to the acquire timeout) for the server
                    # to confirm the query's cancellation, which a hung server never does;
                    # a terminated connection is released at once and replaced later. A
                    # transaction that timed out terminated it already (and so released it).
                    with contextlib.suppress(_require_asyncpg().InterfaceError):
                        conn.terminate()
                    raise

    def _primary(self) -> asyncpg.Pool:
        if self._pool is None:
            raise BackendError("The postgresql backend is not open.", backend=self.name)
        return self._pool

    def _errors(self) -> contextlib.AbstractContextManager[None]:
        return translate_errors(
            self.name, _driver_errors(), (_require_asyncpg().IntegrityConstraintViolationError,)
        )

    # ----------------------------------------------------------------- migrations

    async def migrate(self) -> list[AppliedMigration]:
        known = load_migrations(self.name)
        self._primary()
        driver = _require_asyncpg()
        with self._errors():
            # A dedicated connection without command timeout: waiting for the lock while
            # another process migrates, or building a large index, may take long.
            conn = await driver.connect(self._dsn.reveal(), timeout=self._connect_timeout)
            try:
                # A session lock, held across the per-migration transactions below; it goes
                # with the connection if this process dies mid-way.
                await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
                await conn.execute(_CREATE_MIGRATIONS_TABLE)
                pending = pending_migrations(known, await self._applied(conn))
                applied = []
                for migration in pending:
                    async with conn.transaction():
                        await conn.execute(migration.sql)
                        row = await conn.fetchrow(
                            "INSERT INTO schema_migrations (version, name, checksum)"
                            " VALUES ($1, $2, $3) RETURNING version, name, checksum, applied_at",
                            migration.version,
                            migration.name,
                            migration.checksum,
                        )
                    applied.append(AppliedMigration(**dict(row)))
                # Also how agents stored before the index existed get indexed (0005).
                await rebuild_index_if_outdated(conn)
                return applied
            finally:
                await conn.close(timeout=CLOSE_TIMEOUT)

    async def applied_migrations(self) -> list[AppliedMigration]:
        async with self.connection() as conn:
            return await self._applied(conn)

    @staticmethod
    async def _applied(conn: asyncpg.Connection) -> list[AppliedMigration]:
        if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
            return []
        rows = await conn.fetch(
            "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
        )
        return [AppliedMigration(**dict(row)) for row in rows]

    # ----------------------------------------------------------------------- meta

    async def get_meta(self, key: str) -> str | None:
        async with self.connection() as conn:
            return await conn.fetchval("SELECT value FROM registry_meta WHERE key = $1", key)

    async def put_meta_if_absent(self, key: str, value: str) -> str:
        async with self.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO registry_meta (key, value) VALUES ($1, $2)"
                " ON CONFLICT (key) DO NOTHING",
                key,
                value,
            )
            return await conn.fetchval("SELECT value FROM registry_meta WHERE key = $1", key)
