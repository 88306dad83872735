"""Rate limits are shared through Redis: across real processes, and through a Redis outage.

Two ``serve`` processes load a limited route from an installed plugin (a real entry point on
PYTHONPATH) and count in one Redis. A private redis-server is killed under two running apps:
"closed" limits answer 503, "local" ones count per process, and sharing resumes on restart.
"""

from __future__ import annotations

import asyncio
import textwrap

import aiohttp
import pytest
from aiohttp import web
from registry_processes import running_registries

from agentvault_registry import hookimpl
from agentvault_registry.core.ratelimit import LOCAL, RateLimit, rate_limit

pytestmark = [pytest.mark.redis, pytest.mark.slow]

LIMIT = 10
RECOVERY_SECONDS = 20

PLUGIN_SOURCE = '''
"""One route under the test.shared limit."""

from aiohttp import web

from agentvault_registry import hookimpl
from agentvault_registry.core.ratelimit import RateLimit, rate_limit


@hookimpl
def register_rate_limits():
    return [RateLimit("test.shared", "1000/day", description="A route on every process.")]


@rate_limit("test.shared")
async def shared(request):
    return web.json_response({"ok": True})


@hookimpl
def register_routes(settings):
    return [web.post("/test/shared", shared)]
'''


@pytest.fixture
def limited_plugin_path(tmp_path):
    """An installed plugin (a real entry point) declaring a limit and serving a route under it."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "avreg_shared_limit.py").write_text(textwrap.dedent(PLUGIN_SOURCE))
    dist = site / "avreg_shared_limit-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: avreg-shared-limit\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[agentvault_registry]\nshared_limit = avreg_shared_limit\n"
    )
    return str(site)


def registry_env(plugin_path, redis_url, key_prefix):
    return {
        "PYTHONPATH": plugin_path,
        "AVREG_MODE": "development",
        "AVREG_STORAGE__CACHE__BACKEND": "redis",
        "AVREG_STORAGE__CACHE__URL": redis_url,
        "AVREG_STORAGE__CACHE__KEY_PREFIX": key_prefix,
        # The declared 1000/day is replaced through the environment.
        "AVREG_RATE_LIMITS__TEST__SHARED": f"{LIMIT}/day",
    }


async def test_two_processes_share_one_counter(
    tmp_path, limited_plugin_path, redis_server_url, redis_key_prefix
):
    env = registry_env(limited_plugin_path, redis_server_url, redis_key_prefix)
    async with (
        running_registries(tmp_path, [env, env]) as registries,
        aiohttp.ClientSession() as session,
    ):

        async def post(registry):
            async with session.post(f"{registry.url}/test/shared") as response:
                return registry.port, response.status

        answers = await asyncio.gather(*(post(registries[i % 2]) for i in range(LIMIT + 5)))

    statuses = [status for _, status in answers]
    assert statuses.count(200) == LIMIT, answers
    assert statuses.count(429) == 5, answers


# --------------------------------------------------------------------- cache outage

OUTAGE_LIMIT = 3


@rate_limit("test.closed")
async def closed_route(request):
    return web.json_response({"ok": True})


@rate_limit("test.local")
async def local_route(request):
    return web.json_response({"ok": True})


class OutageRoutes:
    @hookimpl
    def register_rate_limits(self):
        return [
            RateLimit("test.closed", f"{OUTAGE_LIMIT}/day", description="Fails closed."),
            RateLimit("test.local", f"{OUTAGE_LIMIT}/day", LOCAL, "Counts per process."),
        ]

    @hookimpl
    def register_routes(self, settings):
        return [web.post("/test/closed", closed_route), web.post("/test/local", local_route)]


@pytest.fixture
async def two_apps(tmp_path, aiohttp_client, make_app, private_redis):
    """Two registries on the private Redis, each with its own records."""
    cache = {
        "backend": "redis",
        "url": private_redis.url,
        "socket_timeout": 2,
        "socket_connect_timeout": 2,
    }
    clients = []
    for name in ("a", "b"):
        overrides = {"data_dir": str(tmp_path / name), "storage": {"cache": cache}}
        app = make_app(overrides, plugins=[("outage_routes", OutageRoutes())])
        clients.append(await aiohttp_client(app))
    return clients


async def post_statuses(client, path, count):
    return [(await client.post(path)).status for _ in range(count)]


async def eventually_ok(client, path):
    for _ in range(RECOVERY_SECONDS * 4):
        if (await client.post(path)).status == 200:
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"POST {path} did not recover")


async def test_a_cache_outage_fails_closed_or_counts_locally_then_sharing_resumes(
    two_apps, private_redis
):
    a, b = two_apps
    assert await post_statuses(a, "/test/local", 2) == [200, 200]
    assert await post_statuses(b, "/test/local", 2) == [200, 429]

    private_redis.kill()
    closed = await a.post("/test/closed")
    assert closed.status == 503
    assert int(closed.headers["Retry-After"]) >= 1
    assert (await closed.json())["error"] == "backend_unavailable"
    # Each process now counts on its own, at the same rate.
    expected = [200] * OUTAGE_LIMIT + [429]
    assert await post_statuses(a, "/test/local", OUTAGE_LIMIT + 1) == expected
    assert await post_statuses(b, "/test/local", OUTAGE_LIMIT + 1) == expected

    private_redis.start()
    await eventually_ok(a, "/test/closed")
    await eventually_ok(b, "/test/closed")
    # The restarted Redis starts from zero; both local counters are spent, so every 200 here
    # was counted in Redis, and the fourth hit overall is refused whichever process takes it.
    assert (await a.post("/test/local")).status == 200
    assert (await b.post("/test/local")).status == 200
    assert (await a.post("/test/local")).status == 200
    assert (await b.post("/test/local")).status == 429
    assert (await a.post("/test/local")).status == 429
