from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from marshmallow import ValidationError

from agentvault_registry.config.secrets import Secret
from agentvault_registry.core.errors import BackendError, ConfigError
from agentvault_registry.storage_backends import redis_cache
from agentvault_registry.storage_backends.redis_cache import RedisCache, RedisCacheOptions
from agentvault_registry.storage_backends.spec import BackendContext
from agentvault_registry.storage_backends.testing import CacheConformance
from support import free_port

pytestmark = pytest.mark.redis

CONTEXT = BackendContext(data_dir=Path("unused"), production=False)


def redis_cache_from(**options: object) -> RedisCache:
    return RedisCache.from_options(RedisCacheOptions().load(options), CONTEXT)


class TestRedisCache(CacheConformance):
    @pytest.fixture
    async def cache(
        self, redis_server_url: str, redis_key_prefix: str
    ) -> AsyncIterator[RedisCache]:
        backend = redis_cache_from(url=redis_server_url, key_prefix=redis_key_prefix)
        await backend.open()
        yield backend
        await backend.close()


async def test_keys_live_under_the_prefix(redis_server_url: str, redis_key_prefix: str) -> None:
    first = redis_cache_from(url=redis_server_url, key_prefix=redis_key_prefix + "one:")
    second = redis_cache_from(url=redis_server_url, key_prefix=redis_key_prefix + "two:")
    await first.open()
    await second.open()
    try:
        await first.set("k", b"first")
        assert await second.get("k") is None
    finally:
        await first.close()
        await second.close()


async def test_closed_port_fails_open_quickly_with_backend_error() -> None:
    cache = redis_cache_from(url=f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    with pytest.raises(BackendError) as raised:
        await cache.open()
    assert time.monotonic() - started < 10  # far below a hang, yet safe on a loaded machine
    assert raised.value.backend == "redis"
    await cache.close()


async def test_missing_driver_is_a_config_error_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(redis_cache, "aioredis", None)
    with pytest.raises(ConfigError, match="'redis' extra"):
        await redis_cache_from().open()


def test_options_defaults() -> None:
    options = RedisCacheOptions().load({})
    assert options == {
        "url": Secret("redis://127.0.0.1:6379/0"),
        "key_prefix": "avreg:",
        "socket_timeout": 5.0,
        "socket_connect_timeout": 5.0,
        "max_connections": 50,
    }


@pytest.mark.parametrize(
    "options",
    [
        {"url": 6379},
        {"url": "http://127.0.0.1:6379"},
        {"url": ""},
        {"key_prefix": 5},
        {"socket_timeout": "soon"},
        {"socket_timeout": 0},
        {"max_connections": 1.5j},
        {"max_connections": 0},
        {"host": "127.0.0.1"},
    ],
)
def test_options_refuse_wrong_types_and_unknown_keys(options: dict) -> None:
    with pytest.raises(ValidationError):
        RedisCacheOptions().load(options)


def test_describe_hides_the_password() -> None:
    cache = redis_cache_from(url="redis://registry:s3cr3t@cache.internal:6380/2?password=s3cr3t")
    description = cache.describe()
    assert "s3cr3t" not in description
    assert "registry:********@cache.internal:6380/2" in description
    dumped = RedisCacheOptions().dump(RedisCacheOptions().load({"url": "redis://:s3cr3t@h"}))
    assert "s3cr3t" not in repr(dumped)


async def test_unusable_url_is_a_config_error_without_the_password() -> None:
    cache = redis_cache_from(url="redis://:s3cr3t@cache.internal:not-a-port/0")
    with pytest.raises(ConfigError) as raised:
        await cache.open()
    assert "s3cr3t" not in str(raised.value)


# ----------------------------------------------------- recovery after a Redis restart


def start_redis_server(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        probe = subprocess.run(
            ["redis-cli", "-p", str(port), "ping"], capture_output=True, check=False
        )
        if probe.stdout.strip() == b"PONG":
            return process
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError(f"redis-server did not start on port {port}")


@pytest.fixture
def own_redis_port() -> Iterator[int]:
    if not (shutil.which("redis-server") and shutil.which("redis-cli")):
        pytest.skip("redis-server is not installed")
    yield free_port()


@pytest.mark.slow
async def test_the_same_instance_recovers_after_redis_restarts(own_redis_port: int) -> None:
    server = await asyncio.to_thread(start_redis_server, own_redis_port)
    cache = redis_cache_from(url=f"redis://127.0.0.1:{own_redis_port}/0", socket_timeout=1.0)
    try:
        await cache.open()
        # Several connections in the pool, all of which the restart will break.
        await asyncio.gather(*(cache.incr("n") for _ in range(10)))

        server.kill()
        await asyncio.to_thread(server.wait)
        with pytest.raises(BackendError):
            await cache.get("n")
        with pytest.raises(BackendError):
            await cache.ping()
        server = await asyncio.to_thread(start_redis_server, own_redis_port)
        await cache.ping()
        results = await asyncio.gather(*(cache.incr("n") for _ in range(10)))
        assert sorted(results) == list(range(1, 11))

        # A restart nobody noticed while it happened: the first calls after it still succeed.
        server.kill()
        await asyncio.to_thread(server.wait)
        server = await asyncio.to_thread(start_redis_server, own_redis_port)
        results = await asyncio.gather(*(cache.incr("n") for _ in range(10)))
        assert sorted(results) == list(range(1, 11))
    finally:
        await cache.close()
        server.kill()
        await asyncio.to_thread(server.wait)
