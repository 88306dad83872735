from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from marshmallow import ValidationError

from agentvault_registry.config.secrets import Secret
from agentvault_registry.core.errors import BackendError, ConfigError
from agentvault_registry.storage_backends.agents import AgentRecord
from agentvault_registry.storage_backends.onboarding import CONSUMED, BootstrapTokenRefused
from agentvault_registry.storage_backends.postgresql import PostgresOptions, PostgresRecords
from agentvault_registry.storage_backends.spec import BackendContext
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
from agentvault_registry.storage_backends.testing.accounts_data import SOON, make_user
from agentvault_registry.storage_backends.testing.agents import created_event, make_agent
from agentvault_registry.storage_backends.testing.onboarding import (
    agent_key,
    make_bootstrap_token,
)

pytestmark = pytest.mark.postgres

CONTEXT = BackendContext(data_dir=Path("avreg-data"), production=True)
VALID_DSN = "postgresql://u@h/db"


def build(dsn: str, **options: Any) -> PostgresRecords:
    return PostgresRecords.from_options(PostgresOptions().load({"dsn": dsn, **options}), CONTEXT)


@pytest.fixture
def records_backend_factory(fresh_postgres_dsn: str) -> Callable[[], PostgresRecords]:
    return lambda: build(fresh_postgres_dsn, max_size=4)


@pytest.fixture
def tamper_migration_checksum(fresh_postgres_dsn: str) -> Callable[[int], Awaitable[None]]:
    asyncpg = pytest.importorskip("asyncpg")

    async def tamper(version: int) -> None:
        conn = await asyncpg.connect(fresh_postgres_dsn)
        try:
            await conn.execute(
                "UPDATE schema_migrations SET checksum = $1 WHERE version = $2", "0" * 64, version
            )
        finally:
            await conn.close()

    return tamper


class TestPostgresRecords(RecordsConformance):
    pass


@pytest.fixture
async def migrated_records(fresh_postgres_dsn: str) -> AsyncIterator[PostgresRecords]:
    backend = build(fresh_postgres_dsn, max_size=4)
    await backend.open()
    try:
        await backend.migrate()
        yield backend
    finally:
        await backend.close()


class TestPostgresAccounts(AccountsConformance):
    @pytest.fixture
    def records(self, migrated_records: PostgresRecords) -> PostgresRecords:
        return migrated_records


class TestPostgresAgents(AgentsConformance):
    @pytest.fixture
    def records(self, migrated_records: PostgresRecords) -> PostgresRecords:
        return migrated_records


class TestPostgresOnboarding(OnboardingConformance):
    @pytest.fixture
    def records(self, migrated_records: PostgresRecords) -> PostgresRecords:
        return migrated_records


class TestPostgresDiscovery(DiscoveryConformance):
    @pytest.fixture
    def records(self, migrated_records: PostgresRecords) -> PostgresRecords:
        return migrated_records


class TestPostgresFederation(FederationConformance):
    @pytest.fixture
    def records(self, migrated_records: PostgresRecords) -> PostgresRecords:
        return migrated_records


class TestPostgresHealth(HealthConformance):
    @pytest.fixture
    def records(self, migrated_records: PostgresRecords) -> PostgresRecords:
        return migrated_records


class TestPostgresActivity(ActivityConformance):
    @pytest.fixture
    def records(self, migrated_records: PostgresRecords) -> PostgresRecords:
        return migrated_records


# ------------------------------------------------------------ racing redemptions


async def wait_until_blocked_by(holder: Any) -> None:
    """Until some session waits for a lock that ``holder``'s transaction holds."""
    for _ in range(200):
        if await holder.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted"
            " AND $1 = ANY (pg_blocking_pids(pid)))",
            holder.get_server_pid(),
        ):
            return
        await asyncio.sleep(0.025)
    raise AssertionError("no session ever waited for the holder's locks")


@pytest.mark.parametrize("first_commits", [True, False], ids=["commits", "rolls-back"])
async def test_a_redemption_waiting_for_the_token_row_sees_how_the_first_one_ended(
    migrated_records: PostgresRecords, fresh_postgres_dsn: str, first_commits: bool
) -> None:
    """Under READ COMMITTED the consuming UPDATE re-checks its WHERE once the row lock is
    released: refused when the first redemption committed, successful when it rolled back."""
    asyncpg = pytest.importorskip("asyncpg")
    alice = await migrated_records.create_user(make_user("alice"))
    token = make_bootstrap_token(1, alice.id)
    await migrated_records.add_bootstrap_token(token)
    first, second = make_agent(1, alice.id), make_agent(2, alice.id)
    await migrated_records.create_agent(first, created_event(first))
    holder = await asyncpg.connect(fresh_postgres_dsn)
    waiting: asyncio.Task[AgentRecord] | None = None
    try:
        transaction = holder.transaction()
        await transaction.start()
        # Where a first redemption stands after its first statement: the token row locked.
        await holder.execute(
            "UPDATE bootstrap_tokens SET consumed = true, consumed_at = $2,"
            " consumed_by_agent_id = $3 WHERE digest = $1",
            token.digest,
            SOON,
            first.id,
        )
        waiting = asyncio.create_task(
            migrated_records.redeem_bootstrap_token(
                token.digest, SOON, second, created_event(second), agent_key(second)
            )
        )
        await wait_until_blocked_by(holder)
        if first_commits:
            await transaction.commit()
            with pytest.raises(BootstrapTokenRefused) as caught:
                await waiting
            assert caught.value.reason == CONSUMED
            assert await migrated_records.get_agent(second.id) is None
        else:
            await transaction.rollback()
            assert await waiting == second
            stored = await migrated_records.get_bootstrap_token(token.id)
            assert stored is not None
            assert stored.consumed_by_agent_id == second.id
    finally:
        if waiting is not None and not waiting.done():
            waiting.cancel()
        await holder.close()


# ------------------------------------------------------------------ read replica


async def test_reader_uses_the_read_replica(fresh_postgres_dsn: str) -> None:
    backend = build(
        fresh_postgres_dsn, read_replica_dsn=f"{fresh_postgres_dsn}?application_name=replica"
    )
    await backend.open()
    try:
        async with backend.reader() as conn:
            assert await conn.fetchval("SHOW application_name") == "replica"
        async with backend.connection() as conn:
            assert await conn.fetchval("SHOW application_name") != "replica"
    finally:
        await backend.close()


async def test_reader_falls_back_to_primary_without_replica(fresh_postgres_dsn: str) -> None:
    backend = build(f"{fresh_postgres_dsn}?application_name=primary")
    await backend.open()
    try:
        async with backend.reader() as conn:
            assert await conn.fetchval("SHOW application_name") == "primary"
    finally:
        await backend.close()


# ------------------------------------------------------------------------ outages


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers, like a hung server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


async def test_open_against_closed_port_gives_backend_error(closed_port: int) -> None:
    backend = build(f"postgresql://postgres@127.0.0.1:{closed_port}/test", connect_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(BackendError):
        await backend.open()
    assert time.monotonic() - started < 10  # far below a hang, yet safe on a loaded machine
    await backend.close()


async def test_open_against_silent_server_gives_up_after_connect_timeout(
    silent_port: int,
) -> None:
    backend = build(f"postgresql://postgres@127.0.0.1:{silent_port}/test", connect_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(BackendError):
        await backend.open()
    assert time.monotonic() - started < 10  # asyncpg's own default would wait 60 s
    await backend.close()


class OutageProxy:
    """A loopback TCP proxy to PostgreSQL that can drop everything, as a server crash would."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def crash(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for writer in self._writers:
            writer.transport.abort()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _handle(self, client_reader: Any, client_writer: asyncio.StreamWriter) -> None:
        self._handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self._writers |= {client_writer, upstream_writer}
        try:
            await asyncio.gather(
                self._pipe(client_reader, upstream_writer),
                self._pipe(upstream_reader, client_writer),
            )
        finally:
            for writer in (client_writer, upstream_writer):
                writer.close()
                self._writers.discard(writer)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.transport.abort()


@pytest.fixture
async def outage_proxy(postgres_server_dsn: str) -> AsyncIterator[OutageProxy]:
    server = urlsplit(postgres_server_dsn)
    proxy = OutageProxy((server.hostname or "127.0.0.1", server.port or 5432))
    await proxy.start()
    yield proxy
    await proxy.crash()


async def test_recovers_after_the_server_comes_back(
    fresh_postgres_dsn: str, outage_proxy: OutageProxy
) -> None:
    direct = urlsplit(fresh_postgres_dsn)
    proxied = direct._replace(netloc=f"{direct.username}@127.0.0.1:{outage_proxy.port}")
    backend = build(proxied.geturl(), min_size=2, connect_timeout=1.0, acquire_timeout=1.0)
    await backend.open()
    try:
        await backend.migrate()
        assert await backend.put_meta_if_absent("instance_id", "abc") == "abc"

        await outage_proxy.crash()
        with pytest.raises(BackendError):
            await backend.ping()
        with pytest.raises(BackendError):
            await backend.get_meta("instance_id")

        await outage_proxy.start()
        await backend.ping()
        assert await backend.get_meta("instance_id") == "abc"
    finally:
        await backend.close()


async def test_open_without_asyncpg_asks_for_the_postgres_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    backend = build("postgresql://postgres@127.0.0.1:5432/test")
    with pytest.raises(ConfigError, match=r"agentvault-registry\[postgres\]"):
        await backend.open()


# ------------------------------------------------------------------------- options


def test_describe_hides_the_password() -> None:
    backend = build(
        "postgresql://avreg:s3cret@db.internal:5432/registry?password=s3cret",
        read_replica_dsn="postgresql://avreg:s3cret@replica.internal/registry",
    )
    description = backend.describe()
    assert "s3cret" not in description
    assert "avreg@db.internal:5432/registry" in description
    assert "replica.internal" in description


def test_options_defaults() -> None:
    options = PostgresOptions().load({"dsn": VALID_DSN})
    assert options == {
        "dsn": Secret(VALID_DSN),
        "read_replica_dsn": None,
        "min_size": 1,
        "max_size": 10,
        "acquire_timeout": 5.0,
        "command_timeout": 30.0,
        "connect_timeout": 5.0,
    }


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"dsn": 5},
        {"dsn": ""},
        {"dsn": "mysql://u:pw@h/db"},
        {"dsn": VALID_DSN, "read_replica_dsn": "http://replica"},
        {"dsn": VALID_DSN, "min_size": "one"},
        {"dsn": VALID_DSN, "min_size": 1.5},
        {"dsn": VALID_DSN, "min_size": -1},
        {"dsn": VALID_DSN, "max_size": 0},
        {"dsn": VALID_DSN, "min_size": 5, "max_size": 2},
        {"dsn": VALID_DSN, "acquire_timeout": 0},
        {"dsn": VALID_DSN, "command_timeout": "long"},
        {"dsn": VALID_DSN, "connect_timeout": -5},
        {"dsn": VALID_DSN, "pool": 3},
    ],
    ids=[
        "dsn-missing",
        "dsn-not-string",
        "dsn-empty",
        "dsn-not-postgres",
        "replica-not-postgres",
        "min-size-not-number",
        "min-size-fraction",
        "min-size-negative",
        "max-size-zero",
        "min-above-max",
        "acquire-timeout-zero",
        "command-timeout-not-number",
        "connect-timeout-negative",
        "unknown-key",
    ],
)
def test_options_refuse_bad_values(options: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PostgresOptions().load(options)


def test_options_errors_never_echo_the_dsn() -> None:
    with pytest.raises(ValidationError) as caught:
        PostgresOptions().load({"dsn": "mysql://u:s3cret@h/db"})
    assert "s3cret" not in str(caught.value.messages)


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://user:hunter2@localhost:99999/db",
        "postgresql://user:hunter2@localhost:port/db",
        "postgresql://user:hunter2@[::1/db",
        "postgresql://user:hunter2@a:5432,b:0/db",
    ],
)
def test_a_dsn_with_an_invalid_host_or_port_is_refused_without_echoing_it(dsn: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PostgresOptions().load({"dsn": dsn})
    assert "hunter2" not in str(caught.value.messages)


def test_multi_host_and_ipv6_dsns_are_accepted() -> None:
    for dsn in (
        "postgresql://u@a:5432,b:5433/db",
        "postgresql://u@[::1]:5432/db",
        "postgres:///db",
    ):
        PostgresOptions().load({"dsn": dsn})
