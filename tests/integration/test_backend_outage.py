"""Killing a backend under a running app: 503s while it is down, recovery once it is back.

Real servers, started privately so they can be killed: a redis-server and a PostgreSQL
cluster on free loopback ports. The app is never restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from aiohttp import web

from agentvault_registry import hookimpl
from agentvault_registry.config.secrets import Secret
from agentvault_registry.core.appkeys import STORAGE
from agentvault_registry.core.errors import BackendError
from agentvault_registry.storage_backends.postgresql import PostgresRecords

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

RECOVERY_SECONDS = 20


class BackendRoutes:
    """Requests that need the cache or the records backend, as feature routes do."""

    @hookimpl
    def register_routes(self, settings):
        async def counter(request):
            count = await request.app[STORAGE].cache.incr("outage-test", ttl=60)
            return web.json_response({"count": count})

        async def instance(request):
            value = await request.app[STORAGE].records.get_meta("instance_id")
            return web.json_response({"instance_id": value})

        return [web.post("/test/counter", counter), web.get("/test/instance", instance)]


@pytest.fixture
async def registry(aiohttp_client, make_app, private_postgres, private_redis):
    app = make_app(
        {
            "storage": {
                "records": {
                    "backend": "postgresql",
                    "dsn": private_postgres.dsn,
                    "connect_timeout": 2,
                    "acquire_timeout": 2,
                    "command_timeout": 5,
                },
                "cache": {
                    "backend": "redis",
                    "url": private_redis.url,
                    "socket_timeout": 2,
                    "socket_connect_timeout": 2,
                },
            }
        },
        plugins=[("backend_routes", BackendRoutes())],
    )
    return await aiohttp_client(app)


async def assert_unavailable(response, backend_kind_or_name):
    assert response.status == 503
    assert int(response.headers["Retry-After"]) >= 1
    body = await response.json()
    assert set(body) == {"error", "message", "details", "request_id"}
    assert body["error"] in {"backend_unavailable", "not_ready"}
    assert backend_kind_or_name in (body["message"] + str(body["details"]))


async def eventually_ok(client, method, path):
    for _ in range(RECOVERY_SECONDS * 4):
        response = await client.request(method, path)
        if response.status == 200:
            return response
        await asyncio.sleep(0.25)
    raise AssertionError(
        f"{method} {path} did not recover: {response.status} {await response.text()}"
    )


async def test_killing_redis_gives_503_then_recovers(registry, private_redis):
    assert (await registry.post("/test/counter")).status == 200

    private_redis.kill()
    await assert_unavailable(await registry.post("/test/counter"), "redis")
    ready = await registry.get("/ready")
    await assert_unavailable(ready, "cache")
    checks = (await ready.json())["details"]["checks"]
    assert checks["records"] == "ok" and checks["cache"] != "ok"
    # Requests that do not need the cache go on working.
    assert (await registry.get("/test/instance")).status == 200

    private_redis.start()
    await eventually_ok(registry, "POST", "/test/counter")
    await eventually_ok(registry, "GET", "/ready")


async def test_killing_postgresql_gives_503_then_recovers(registry, private_postgres):
    before = await (await registry.get("/test/instance")).json()

    private_postgres.kill()
    await assert_unavailable(await registry.get("/test/instance"), "postgresql")
    ready = await registry.get("/ready")
    await assert_unavailable(ready, "records")
    assert (await ready.json())["details"]["checks"]["cache"] == "ok"
    assert (await registry.post("/test/counter")).status == 200

    private_postgres.start()
    after = await (await eventually_ok(registry, "GET", "/test/instance")).json()
    assert after == before
    await eventually_ok(registry, "GET", "/ready")


# A PostgreSQL that hangs (every process stopped) rather than one that is gone: then only the
# timeouts end a wait, and a failing call must not cost more than the one that ran out.
COMMAND_TIMEOUT = 2.0


@pytest.fixture
async def hung_records(private_postgres):
    records = PostgresRecords(
        Secret(private_postgres.dsn),
        acquire_timeout=1.0,
        connect_timeout=1.0,
        command_timeout=COMMAND_TIMEOUT,
    )
    await records.open()
    await records.migrate()
    yield records
    private_postgres.thaw()
    await records.close()


async def fails_within(call, seconds):
    started = time.monotonic()
    with pytest.raises(BackendError):
        await call()
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"{elapsed:.2f} s"


async def test_a_statement_on_a_hung_postgresql_fails_within_the_command_timeout(
    hung_records, private_postgres
):
    # Not also the acquire timeout on top, waiting for a cancellation the server never
    # confirms when the connection goes back to the pool.
    assert await hung_records.get_meta("instance_id") is None  # the pooled connection
    private_postgres.freeze()
    await fails_within(lambda: hung_records.get_meta("instance_id"), COMMAND_TIMEOUT + 0.5)

    private_postgres.thaw()
    for _ in range(RECOVERY_SECONDS * 4):
        with contextlib.suppress(BackendError):
            assert await hung_records.get_meta("instance_id") is None
            break
        await asyncio.sleep(0.25)
    else:
        raise AssertionError("postgresql did not recover")


async def test_a_transaction_on_a_hung_postgresql_fails_within_the_command_timeout(
    hung_records, private_postgres
):
    # Not twice: no ROLLBACK that waits a command timeout of its own after the statement's.
    async def write_after_the_server_hung():
        async with hung_records.connection() as conn, conn.transaction():
            await conn.execute("SELECT 1")
            private_postgres.freeze()
            await conn.execute("INSERT INTO registry_meta (key, value) VALUES ('k', 'v')")

    await fails_within(write_after_the_server_hung, COMMAND_TIMEOUT + 0.5)
    private_postgres.thaw()
    for _ in range(RECOVERY_SECONDS * 4):
        with contextlib.suppress(BackendError):
            # Nothing of the abandoned transaction was committed.
            assert await hung_records.get_meta("k") is None
            break
        await asyncio.sleep(0.25)
    else:
        raise AssertionError("postgresql did not recover")
