"""The redis cache on a real Redis Cluster and a real Sentinel-managed master: the whole
cache conformance suite, and the rate limiter counting on it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from marshmallow import ValidationError

from agentvault_registry.core.errors import RateLimited
from agentvault_registry.core.ratelimit.declarations import RateLimit
from agentvault_registry.core.ratelimit.limiter import RateLimiter
from agentvault_registry.storage_backends.redis_cache import RedisCache, RedisCacheOptions
from agentvault_registry.storage_backends.redis_topology import RedisTopology, parse_topology
from agentvault_registry.storage_backends.spec import BackendContext
from agentvault_registry.storage_backends.testing import CacheConformance
from redis_topologies import SENTINEL_SERVICE, redis_cli, redis_cluster, redis_sentinel

CONTEXT = BackendContext(data_dir=Path("unused"), production=False)


@pytest.fixture(scope="module")
def cluster_url() -> Iterator[str]:
    with redis_cluster() as ports:
        # One node named is enough; the client discovers the other two.
        yield f"redis+cluster://127.0.0.1:{ports[0]}/"


@pytest.fixture(scope="module")
def sentinel_url() -> Iterator[str]:
    with redis_sentinel() as (_, sentinel_port):
        yield f"redis+sentinel://127.0.0.1:{sentinel_port}/{SENTINEL_SERVICE}/0"


@pytest.fixture(params=["cluster", "sentinel"])
def topology_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
async def topology_cache(topology_url: str) -> AsyncIterator[RedisCache]:
    options = RedisCacheOptions().load(
        {"url": topology_url, "key_prefix": f"avreg-test:{uuid.uuid4().hex}:"}
    )
    backend = RedisCache.from_options(options, CONTEXT)
    await backend.open()
    yield backend
    await backend.close()


@pytest.mark.redis
@pytest.mark.slow
class TestRedisTopologyCache(CacheConformance):
    @pytest.fixture
    async def cache(self, topology_cache: RedisCache) -> RedisCache:
        return topology_cache


@pytest.mark.redis
@pytest.mark.slow
async def test_cluster_keys_spread_over_every_master(cluster_url: str) -> None:
    """The suite above really ran on three slot owners, not on one node that owns all."""
    cache = RedisCache.from_options(RedisCacheOptions().load({"url": cluster_url}), CONTEXT)
    await cache.open()
    try:
        for index in range(60):
            await cache.set(f"spread:{index}", b"v", ttl=30)
        ports = [int(node.port) for node in cache._redis().get_primaries()]
        assert len(ports) == 3
        assert all(int(redis_cli(port, "dbsize")) > 0 for port in ports)
    finally:
        await cache.close()


@pytest.mark.redis
@pytest.mark.slow
async def test_rate_limiter_counts_across_processes_sharing_the_topology(
    topology_url: str,
) -> None:
    prefix = f"avreg-test:{uuid.uuid4().hex}:"
    caches = [
        RedisCache.from_options(
            RedisCacheOptions().load({"url": topology_url, "key_prefix": prefix}), CONTEXT
        )
        for _ in range(2)
    ]
    for cache in caches:
        await cache.open()
    try:
        declared = [RateLimit("test.topology", "3/minute")]
        first, second = (RateLimiter(declared, {}, cache=lambda c=c: c) for c in caches)
        for limiter in (first, second, first):
            assert (await limiter.hit("test.topology", "ip:192.0.2.1")).allowed
        refused = await second.hit("test.topology", "ip:192.0.2.1")
        assert not refused.allowed
        assert isinstance(refused.error(), RateLimited)
        assert (await second.hit("test.topology", "ip:192.0.2.2")).allowed
    finally:
        for cache in caches:
            await cache.close()


# ------------------------------------------------------------------------ URL parsing


def test_cluster_url_names_every_startup_node() -> None:
    assert parse_topology("redis+cluster://u:p%40ss@10.0.0.1:7000,[::1]:7001,cache/") == (
        RedisTopology(
            "redis+cluster",
            (("10.0.0.1", 7000), ("::1", 7001), ("cache", 6379)),
            username="u",
            password="p@ss",
        )
    )


def test_sentinel_url_names_service_and_database() -> None:
    assert parse_topology("redis+sentinel://:pw@s1,s2:26380/registry/2") == RedisTopology(
        "redis+sentinel",
        (("s1", 26379), ("s2", 26380)),
        password="pw",
        service_name="registry",
        db=2,
    )


def test_single_server_url_is_no_topology() -> None:
    assert parse_topology("redis://127.0.0.1:6379/0") is None


@pytest.mark.parametrize(
    "url",
    [
        "redis+cluster://127.0.0.1:7000/3",
        "redis+cluster://127.0.0.1:notaport/",
        "redis+cluster://:s3cr3t@/",
        "redis+sentinel://127.0.0.1:26379",
        "redis+sentinel://127.0.0.1:26379/svc/zero",
        "redis+sentinel://127.0.0.1:26379/svc/0/extra",
    ],
)
def test_malformed_topology_urls_are_refused_without_the_password(url: str) -> None:
    with pytest.raises(ValidationError) as raised:
        RedisCacheOptions().load({"url": url})
    assert "s3cr3t" not in str(raised.value)


def test_describe_hides_a_topology_password() -> None:
    options = RedisCacheOptions().load({"url": "redis+sentinel://:s3cr3t@s1:26379,s2/svc/0"})
    description = RedisCache.from_options(options, CONTEXT).describe()
    assert "s3cr3t" not in description
    assert "s1:26379,s2/svc/0" in description
