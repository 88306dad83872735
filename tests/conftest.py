"""Fixtures for real services: PostgreSQL, Redis and an S3 endpoint (moto's server).

PostgreSQL and Redis come from ``AVREG_TEST_POSTGRES_DSN`` / ``AVREG_TEST_REDIS_URL``; without
them their tests skip with a reason. With ``CI=true`` a skipped postgres/redis/s3 test fails
the run, so CI can never pass without exercising the real backends.

Two checks look at the whole session, so they run where every test's outcome arrives: the one
pytest process, or the pytest-xdist controller (to which workers send their reports and the
hooks they exercised).
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pluggy
import pytest
from aiohttp import web

from agentvault_registry.config.loader import load_configuration
from agentvault_registry.config.settings import Settings
from agentvault_registry.core.app import create_app
from support import fail_session, free_port, hookspec_functions, running_in_ci

#: Watches every response and log record of the suite for secrets shown after their creation.
pytest_plugins = ["secrets_hygiene"]

SERVICE_MARKERS = ("postgres", "redis", "s3", "browser", "corpus")
_skipped_service_tests: list[str] = []
#: Hookspecs called while at least one plugin implemented them: by this process's tests, and
#: on the xdist controller, by every finished worker's.
_exercised_hooks: set[str] = set()


# ------------------------------------------------------------------------ registry apps


@pytest.fixture
def make_settings(tmp_path):
    """Build settings as the CLI would, isolated from the caller's environment.

    ``overrides`` is a nested dict like the command-line layer; ``plugins`` are extra
    ``(name, plugin)`` pairs registered next to the built-ins.
    """

    def make(
        overrides: dict | None = None, *, plugins=(), environ=None, config_file=None
    ) -> tuple[Settings, pluggy.PluginManager]:
        layer = {"mode": "development", "data_dir": str(tmp_path / "data")}
        layer.update(overrides or {})
        return load_configuration(
            config_file,
            environ=environ or {},
            overrides=layer,
            extra_plugins=plugins,
            load_entry_points=False,
        )

    return make


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def records_overrides(request) -> dict:
    """The ``storage`` overrides of a test run on each records backend: SQLite, and
    PostgreSQL (a fresh database) when configured."""
    if request.param == "sqlite":
        return {}
    dsn = request.getfixturevalue("fresh_postgres_dsn")
    return {"records": {"backend": "postgresql", "dsn": dsn}}


@pytest.fixture
def make_app(make_settings):
    def make(overrides: dict | None = None, *, plugins=()) -> web.Application:
        settings, pm = make_settings(overrides, plugins=plugins)
        return create_app(settings, pm)

    return make


@pytest.fixture
async def client(aiohttp_client, make_app):
    """A client of a registry on the embedded defaults."""
    return await aiohttp_client(make_app())


@pytest.fixture
def unused_tcp_port() -> int:
    """Overrides pytest-asyncio's fixture, whose bind(0) ports other xdist workers (and any
    outgoing connection) may be handed too: see :func:`support.free_port`."""
    return free_port()


# --------------------------------------------------------------------------- services


def _service_url(variable: str) -> str:
    """The service's URL; skip without it, except in CI, where that is a failure."""
    url = os.environ.get(variable)
    if not url:
        if running_in_ci():
            pytest.fail(f"{variable} must be set in CI")
        pytest.skip(f"{variable} is not set")
    return url


# --------------------------------------------------------------------------- postgres


@pytest.fixture(scope="session")
def postgres_server_dsn() -> str:
    return _service_url("AVREG_TEST_POSTGRES_DSN")


def _dsn_with_database(dsn: str, database: str) -> str:
    base, _, _ = dsn.rpartition("/")
    return f"{base}/{database}"


@contextlib.asynccontextmanager
async def _fresh_database(server_dsn: str) -> AsyncIterator[str]:
    asyncpg = pytest.importorskip("asyncpg")
    name = f"avreg_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield _dsn_with_database(server_dsn, name)
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def fresh_postgres_dsn(postgres_server_dsn: str) -> AsyncIterator[str]:
    """A DSN to a brand-new, empty database, dropped after the test."""
    async with _fresh_database(postgres_server_dsn) as dsn:
        yield dsn


@pytest.fixture
async def replica_postgres_dsn(postgres_server_dsn: str) -> AsyncIterator[str]:
    """A second fresh database next to ``fresh_postgres_dsn``, to stand for a read replica
    whose content the test chooses (so an answer shows which database it came from)."""
    async with _fresh_database(postgres_server_dsn) as dsn:
        yield dsn


# ------------------------------------------------------------------------------ redis


@pytest.fixture(scope="session")
def redis_server_url() -> str:
    return _service_url("AVREG_TEST_REDIS_URL")


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


# ---------------------------------------------------- which hooks the suite exercises


@pytest.fixture(scope="session", autouse=True)
def _record_exercised_hooks() -> Iterator[None]:
    """Note every hook call that reaches an implementation, for the end-of-session check.

    Both ways the core invokes hooks are observed: calling the hook, and
    ``results_by_plugin`` iterating its implementations. pluggy's own bookkeeping (which
    also lists implementations, e.g. for ``get_hookcallers``) does not count.
    """
    original_call = pluggy.HookCaller.__call__
    original_impls = pluggy.HookCaller.get_hookimpls

    def observed_call(self, **kwargs):
        if self.spec is not None and original_impls(self):
            _exercised_hooks.add(self.name)
        return original_call(self, **kwargs)

    def observed_impls(self):
        impls = original_impls(self)
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if self.spec is not None and impls and caller == "agentvault_registry.core.plugins":
            _exercised_hooks.add(self.name)
        return impls

    pluggy.HookCaller.__call__ = observed_call
    pluggy.HookCaller.get_hookimpls = observed_impls
    try:
        yield
    finally:
        pluggy.HookCaller.__call__ = original_call
        pluggy.HookCaller.get_hookimpls = original_impls


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown, and never called, without xdist
def pytest_testnodedown(node, error) -> None:
    """On the xdist controller: add the hooks a finished worker's tests exercised."""
    # A crashed worker sends nothing; its crash already fails the run.
    _exercised_hooks.update(getattr(node, "workeroutput", {}).get("exercised_hooks", ()))


def _ran_the_whole_suite(session: pytest.Session, exitstatus: int) -> bool:
    """Every test of ``tests/`` ran: no narrower paths, ``-k`` or ``-m``, and the run neither
    only collected nor stopped early (``-x``, a collection error, Ctrl-C)."""
    config = session.config
    return (
        [Path(arg).resolve() for arg in config.args] == [Path(__file__).parent]
        and not config.option.keyword
        and not config.option.markexpr
        and not config.option.collectonly
        and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
        and not session.shouldfail
        and not session.shouldstop
    )


# ------------------------------------------------------------------ end of session


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):  # an xdist worker: its controller judges the session
        config.workeroutput["exercised_hooks"] = sorted(_exercised_hooks)
        return
    if running_in_ci() and _skipped_service_tests:
        fail_session(
            session,
            f"CI: {len(_skipped_service_tests)} postgres/redis/s3/browser/corpus test(s) were "
            "skipped; in CI they must run:",
            _skipped_service_tests[:20],
        )
    if _ran_the_whole_suite(session, exitstatus):
        missing = sorted({spec.__name__ for spec in hookspec_functions()} - _exercised_hooks)
        if missing:
            fail_session(
                session,
                f"{len(missing)} hookspec(s) with no test calling them with an implementation:",
                missing,
            )
