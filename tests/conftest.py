"""Fixtures for real services: PostgreSQL, Redis and an S3 endpoint (moto's server).

PostgreSQL and Redis come from ``AVREG_TEST_POSTGRES_DSN`` / ``AVREG_TEST_REDIS_URL``; without
them their tests skip with a reason. With ``CI=true`` a skipped postgres/redis/s3 test fails
the run, so CI can never pass without exercising the real backends.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

SERVICE_MARKERS = ("postgres", "redis", "s3")
_skipped_service_tests: list[str] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- postgres


@pytest.fixture(scope="session")
def postgres_server_dsn() -> str:
    dsn = os.environ.get("AVREG_TEST_POSTGRES_DSN")
    if not dsn:
        pytest.skip("AVREG_TEST_POSTGRES_DSN is not set")
    return dsn


def _dsn_with_database(dsn: str, database: str) -> str:
    base, _, _ = dsn.rpartition("/")
    return f"{base}/{database}"


@pytest.fixture
async def fresh_postgres_dsn(postgres_server_dsn: str) -> AsyncIterator[str]:
    """A DSN to a brand-new, empty database, dropped after the test."""
    asyncpg = pytest.importorskip("asyncpg")
    name = f"avreg_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield _dsn_with_database(postgres_server_dsn, name)
    admin = await asyncpg.connect(postgres_server_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


# ------------------------------------------------------------------------------ redis


@pytest.fixture(scope="session")
def redis_server_url() -> str:
    url = os.environ.get("AVREG_TEST_REDIS_URL")
    if not url:
        pytest.skip("AVREG_TEST_REDIS_URL is not set")
    return url


@pytest.fixture
async def redis_key_prefix(redis_server_url: str) -> AsyncIterator[str]:
    """A key prefix no other test uses; its keys are deleted after the test."""
    redis_asyncio = pytest.importorskip("redis.asyncio")
    prefix = f"avreg-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis_asyncio.Redis.from_url(redis_server_url)
    try:
        async for key in client.scan_iter(match=f"{prefix}*"):
            await client.delete(key)
    finally:
        await client.aclose()


# --------------------------------------------------------------------------------- s3


@pytest.fixture(scope="session")
def s3_endpoint_url() -> Iterator[str]:
    """moto's standalone S3 server: a real HTTP S3 endpoint on loopback."""
    moto_server = pytest.importorskip("moto.server")
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


# ------------------------------------------------------------- CI: no hidden skips


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and any(marker in report.keywords for marker in SERVICE_MARKERS):
        _skipped_service_tests.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"} and _skipped_service_tests:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"CI: {len(_skipped_service_tests)} postgres/redis/s3 test(s) were skipped; "
                "in CI they must run:",
                red=True,
            )
            for nodeid in _skipped_service_tests[:20]:
                reporter.write_line(f"  {nodeid}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
