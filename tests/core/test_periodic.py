"""Periodic tasks: declarations checked at startup, one round per lease across processes
sharing a cache, failures and cache outages logged, and the loop itself running with the app.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from agentvault_registry import hookimpl
from agentvault_registry.core.appkeys import PERIODIC_TASKS, STORAGE
from agentvault_registry.core.errors import PluginError
from agentvault_registry.core.periodic import (
    PeriodicTask,
    collect_periodic_tasks,
    current_round,
    run_round,
)
from support import free_port

#: Upper bound of any wait for the loop; only reached when the loop does not run at all.
PATIENCE = 10.0


async def nothing(app) -> None:
    return None


class Declares:
    """A plugin declaring ``tasks`` (whatever they are)."""

    def __init__(self, *tasks) -> None:
        self.tasks = list(tasks)

    @hookimpl
    def register_periodic_tasks(self, settings):
        return self.tasks


class Counter:
    """A task body counting its runs, by the app that ran them."""

    def __init__(self) -> None:
        self.runs: list[object] = []

    async def __call__(self, app) -> None:
        self.runs.append(app)


# ---------------------------------------------------------------- declarations


def test_tasks_of_plugins_are_collected(make_settings):
    tick = PeriodicTask("ticker.tick", 30, nothing, exclusive=False)
    settings, pm = make_settings(plugins=[("ticker", Declares(tick))])
    tasks = {task.name: task for task in collect_periodic_tasks(settings, pm)}
    assert tasks["ticker.tick"] is tick
    # The built-in onboarding plugin's purge is declared next to it, on its configured interval.
    assert tasks["onboarding.purge_expired_tokens"].interval == 300
    assert tasks["onboarding.purge_expired_tokens"].exclusive


@pytest.mark.parametrize(
    ("declared", "problem"),
    [
        (("ticker.tick", 30, nothing), "not a PeriodicTask"),
        ({"name": "ticker.tick", "interval": 30}, "not a PeriodicTask"),
        (PeriodicTask("Ticker.Tick", 30, nothing), "must be dotted lowercase words"),
        (PeriodicTask("ticker tick", 30, nothing), "must be dotted lowercase words"),
        (PeriodicTask("ticker:tick", 30, nothing), "must be dotted lowercase words"),
        (PeriodicTask("ticker.", 30, nothing), "must be dotted lowercase words"),
        (PeriodicTask(".tick", 30, nothing), "must be dotted lowercase words"),
        (PeriodicTask("", 30, nothing), "must be dotted lowercase words"),
        (PeriodicTask("ticker.tick", 0, nothing), "needs a positive interval"),
        (PeriodicTask("ticker.tick", -5, nothing), "needs a positive interval"),
        (PeriodicTask("ticker.tick", float("nan"), nothing), "needs a positive interval"),
        (PeriodicTask(5, 30, nothing), "must be dotted lowercase words"),
        (PeriodicTask("ticker.tick", "30", nothing), "needs a positive interval in seconds"),
        (PeriodicTask("ticker.tick", True, nothing), "needs a positive interval in seconds"),
        (PeriodicTask("ticker.tick", None, nothing), "needs a positive interval in seconds"),
        (PeriodicTask("ticker.tick", 30, None), "needs a callable to run"),
        (PeriodicTask("ticker.tick", 30, "purge"), "needs a callable to run"),
    ],
)
def test_a_malformed_declaration_names_its_plugin(make_settings, declared, problem):
    settings, pm = make_settings(plugins=[("ticker", Declares(declared))])
    with pytest.raises(PluginError) as caught:
        collect_periodic_tasks(settings, pm)
    assert "plugin 'ticker'" in str(caught.value)
    assert problem in str(caught.value)


def test_a_malformed_declaration_stops_the_app_from_being_built(make_app):
    with pytest.raises(PluginError, match=r"plugin 'ticker'.*needs a positive interval"):
        make_app(plugins=[("ticker", Declares(PeriodicTask("ticker.tick", 0, nothing)))])


def test_a_name_two_plugins_declare_is_refused(make_settings):
    settings, pm = make_settings(
        plugins=[
            ("first", Declares(PeriodicTask("shared.tick", 30, nothing))),
            ("second", Declares(PeriodicTask("shared.tick", 60, nothing))),
        ]
    )
    with pytest.raises(PluginError) as caught:
        collect_periodic_tasks(settings, pm)
    message = str(caught.value)
    assert "'shared.tick' is declared twice" in message
    # Both plugins are named, whichever pluggy asked first.
    assert "plugin 'first'" in message
    assert "plugin 'second'" in message


def test_a_plugin_cannot_take_a_built_in_task_name(make_settings):
    purge = PeriodicTask("onboarding.purge_expired_tokens", 30, nothing)
    settings, pm = make_settings(plugins=[("impostor", Declares(purge))])
    with pytest.raises(PluginError) as caught:
        collect_periodic_tasks(settings, pm)
    assert "'onboarding.purge_expired_tokens' is declared twice" in str(caught.value)
    assert "plugin 'impostor'" in str(caught.value)
    assert "plugin 'onboarding'" in str(caught.value)


# ------------------------------------------------------------- rounds and leases


@pytest.fixture
def redis_app(aiohttp_client, make_app, tmp_path, redis_server_url, redis_key_prefix):
    """Start an app (its own SQLite records) whose cache is the shared Redis, under the
    test's key prefix: apps started with it behave as processes of one registry."""

    async def start(name: str):
        app = make_app(
            {
                "data_dir": str(tmp_path / name),
                "storage": {
                    "cache": {
                        "backend": "redis",
                        "url": redis_server_url,
                        "key_prefix": redis_key_prefix,
                    }
                },
            }
        )
        return (await aiohttp_client(app)).app

    return start


@pytest.mark.redis
async def test_an_exclusive_round_runs_in_one_of_two_processes(redis_app):
    first, second = await redis_app("first"), await redis_app("second")
    for number in range(20):
        counter = Counter()
        # A long interval: the lease outlives the test, so no round is open twice.
        task = PeriodicTask(f"test.exclusive_{number}", 600, counter)
        ran = await asyncio.gather(
            run_round(first, task, "holder-first"), run_round(second, task, "holder-second")
        )
        assert sorted(ran) == [False, True]
        assert len(counter.runs) == 1
        assert counter.runs[0] is (first if ran[0] else second)

        # The round's lease is held: neither process runs the task again within it.
        again = await asyncio.gather(
            run_round(first, task, "holder-first"), run_round(second, task, "holder-second")
        )
        assert again == [False, False]
        assert len(counter.runs) == 1


@pytest.mark.redis
async def test_the_next_round_is_open_once_the_lease_ends(redis_app):
    first, second = await redis_app("first"), await redis_app("second")
    counter = Counter()
    task = PeriodicTask("test.short_lease", 0.2, counter)
    assert await run_round(first, task, "holder-first")
    # However slowly this runs, the lease ends and the other process takes a later round.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while not await run_round(second, task, "holder-second"):
        assert loop.time() < deadline, "the lease never ended"
        await asyncio.sleep(0.05)
    assert counter.runs == [first, second]


@pytest.mark.redis
async def test_a_task_that_is_not_exclusive_runs_in_every_process(redis_app):
    first, second = await redis_app("first"), await redis_app("second")
    counter = Counter()
    task = PeriodicTask("test.everywhere", 600, counter, exclusive=False)
    for _ in range(3):
        ran = await asyncio.gather(
            run_round(first, task, "holder-first"), run_round(second, task, "holder-second")
        )
        assert ran == [True, True]
    assert counter.runs.count(first) == 3
    assert counter.runs.count(second) == 3


async def test_a_failing_round_is_logged_and_the_round_returns(client, caplog):
    async def explode(app):
        raise RuntimeError("the purge broke")

    task = PeriodicTask("test.explodes", 600, explode)
    with caplog.at_level(logging.ERROR, logger="agentvault_registry.core.periodic"):
        assert await run_round(client.app, task, "holder") is True
    [record] = [r for r in caplog.records if r.name == "agentvault_registry.core.periodic"]
    assert record.getMessage() == "periodic task test.explodes failed"
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "the purge broke"


async def test_a_closed_cache_skips_an_exclusive_round(client, caplog):
    counter = Counter()
    task = PeriodicTask("test.needs_lease", 600, counter)
    await client.app[STORAGE].cache.close()
    with caplog.at_level(logging.WARNING, logger="agentvault_registry.core.periodic"):
        assert await run_round(client.app, task, "holder") is False
    assert counter.runs == []
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        message.startswith("periodic task test.needs_lease skipped a round:")
        for message in messages
    ), messages
    # A task that is not exclusive needs no lease: it still runs.
    everywhere = PeriodicTask("test.no_lease", 600, counter, exclusive=False)
    assert await run_round(client.app, everywhere, "holder") is True
    assert counter.runs == [client.app]


class RedisProxy:
    """A TCP forwarder to Redis that can be stopped: the app's Redis goes away (refused
    connections, dropped sockets) while the real server stays up for other tests."""

    def __init__(self, target_url: str) -> None:
        host_port = target_url.split("://", 1)[1].split("/", 1)[0]
        self.target_host, _, port = host_port.rpartition(":")
        self.target_port = int(port)
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader, writer) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            self.target_host, self.target_port
        )
        self.writers |= {writer, upstream_writer}
        await asyncio.gather(
            self._pipe(reader, upstream_writer),
            self._pipe(upstream_reader, writer),
            return_exceptions=True,
        )

    @staticmethod
    async def _pipe(reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def stop(self) -> None:
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()


@pytest.mark.redis
async def test_an_exclusive_round_is_skipped_while_redis_is_down(
    aiohttp_client, make_app, redis_server_url, redis_key_prefix, caplog
):
    proxy = RedisProxy(redis_server_url)
    await proxy.start()
    app = make_app(
        {
            "storage": {
                "cache": {
                    "backend": "redis",
                    "url": proxy.url,
                    "key_prefix": redis_key_prefix,
                    "socket_timeout": 2,
                    "socket_connect_timeout": 2,
                }
            }
        }
    )
    client = await aiohttp_client(app)
    counter = Counter()
    assert await run_round(client.app, PeriodicTask("test.before", 600, counter), "holder")
    assert len(counter.runs) == 1

    await proxy.stop()
    task = PeriodicTask("test.during", 600, counter)
    with caplog.at_level(logging.WARNING, logger="agentvault_registry.core.periodic"):
        # The pooled connection is gone, then new ones are refused: both rounds are skipped.
        assert await run_round(client.app, task, "holder") is False
        assert await run_round(client.app, task, "holder") is False
    assert len(counter.runs) == 1
    skipped = [
        r.getMessage()
        for r in caplog.records
        if r.getMessage().startswith("periodic task test.during skipped a round:")
    ]
    assert len(skipped) == 2, [r.getMessage() for r in caplog.records]


# ------------------------------------------------------------------------ the loop


async def test_the_loop_runs_tasks_while_the_app_is_up(aiohttp_client, make_app):
    seen: list[str] = []

    async def tick(app) -> None:
        # Rounds run only while the backends are open.
        await app[STORAGE].cache.set("test-tick", b"1", ttl=60)
        seen.append("tick")

    declared = Declares(
        PeriodicTask("ticker.exclusive", 0.05, tick),
        PeriodicTask("ticker.everywhere", 0.05, tick, exclusive=False),
    )
    app = make_app(plugins=[("ticker", declared)])
    assert {task.name for task in app[PERIODIC_TASKS]} >= {"ticker.exclusive", "ticker.everywhere"}
    assert seen == []
    client = await aiohttp_client(app)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while len(seen) < 4:
        assert loop.time() < deadline, f"only {len(seen)} rounds ran"
        await asyncio.sleep(0.02)

    await client.close()
    running = [
        task for task in asyncio.all_tasks() if task.get_name().startswith("periodic:ticker.")
    ]
    assert running == []
    stopped_at = len(seen)
    # Many intervals later still nothing more ran.
    await asyncio.sleep(0.3)
    assert len(seen) == stopped_at


async def test_a_round_that_fails_does_not_stop_the_loop(aiohttp_client, make_app, caplog):
    attempts: list[int] = []

    async def flaky(app) -> None:
        attempts.append(len(attempts))
        raise RuntimeError(f"round {len(attempts)} failed")

    declared = Declares(PeriodicTask("ticker.flaky", 0.05, flaky, exclusive=False))
    client = await aiohttp_client(make_app(plugins=[("ticker", declared)]))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    with caplog.at_level(logging.ERROR, logger="agentvault_registry.core.periodic"):
        while len(attempts) < 3:
            assert loop.time() < deadline, f"only {len(attempts)} rounds ran"
            await asyncio.sleep(0.02)
        await client.close()
    failures = [r for r in caplog.records if r.getMessage() == "periodic task ticker.flaky failed"]
    assert len(failures) == len(attempts)


async def test_the_loop_goes_on_when_the_cache_fails_unexpectedly(aiohttp_client, make_app, caplog):
    ran: list[int] = []

    async def work(app) -> None:
        ran.append(1)

    declared = Declares(PeriodicTask("ticker.odd_cache", 0.05, work))
    client = await aiohttp_client(make_app(plugins=[("ticker", declared)]))
    cache = client.app[STORAGE].cache
    real_add = cache.add
    failures: list[int] = []

    async def add_failing_twice(key, value, ttl=None):
        if len(failures) < 2:
            failures.append(1)
            raise TypeError("a cache bug, not an outage")
        return await real_add(key, value, ttl)

    cache.add = add_failing_twice
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    with caplog.at_level(logging.ERROR, logger="agentvault_registry.core.periodic"):
        while not ran:
            assert loop.time() < deadline, "the loop died with the cache's error"
            await asyncio.sleep(0.02)
        await client.close()
    logged = [r for r in caplog.records if "ticker.odd_cache: round" in r.getMessage()]
    assert len(logged) == 2


def test_rounds_are_numbered_from_the_epoch_so_processes_agree():
    task = PeriodicTask("test.numbered", 300, nothing)
    assert current_round(task, 0) == 0
    assert current_round(task, 299.9) == 0
    assert current_round(task, 300) == 1
    assert current_round(task, 1_764_000_000) == 5_880_000


async def test_a_round_named_by_number_is_taken_once(client):
    counter = Counter()
    task = PeriodicTask("test.by_number", 600, counter)
    assert await run_round(client.app, task, "first", number=7)
    assert not await run_round(client.app, task, "second", number=7)
    # The next round is open, whatever the clock says now.
    assert await run_round(client.app, task, "second", number=8)
    assert len(counter.runs) == 2
