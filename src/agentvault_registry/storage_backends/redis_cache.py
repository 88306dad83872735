"""The Redis cache: shared by every registry process, every operation atomic in Redis itself.

Compound operations are single commands (``GETDEL``, ``SET NX PX``) or Lua scripts, never
read-then-write in Python, so several registry processes on one Redis behave as one.

The same backend runs on one server, a Redis Cluster or a Sentinel-managed master
(:mod:`redis_topology`). Every command and script touches exactly one key, so each lives in
one hash slot by construction: keys need no ``{hash tag}`` and are the same in every mode,
which lets a deployment move between them without renaming anything. A script that touches
several keys would have to tag them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from agentvault_registry.config.secrets import MASK, Secret, SecretField
from agentvault_registry.core.errors import BackendError, ConfigError
from agentvault_registry.storage_backends.base import CacheBackend, translate_errors
from agentvault_registry.storage_backends.redis_topology import (
    URL_SCHEMES,
    RedisTopology,
    parse_topology,
)
from agentvault_registry.storage_backends.spec import BackendContext

try:
    import redis.asyncio as aioredis
    import redis.exceptions as redis_errors
    from redis.asyncio.cluster import ClusterNode
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    # RedisClusterException (no known node answers, a slot is not covered) is no RedisError.
    DRIVER_ERRORS: tuple[type[BaseException], ...] = (
        redis_errors.RedisError,
        redis_errors.RedisClusterException,
        OSError,
    )
except ImportError:  # the 'redis' extra is optional; open() explains how to install it
    aioredis = None  # type: ignore[assignment]
    DRIVER_ERRORS = (OSError,)

# EXISTS before INCRBY tells whether this call creates the counter, so the TTL starts a fixed
# window instead of being pushed back by every increment.
INCR_SCRIPT = """
local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if created and ARGV[2] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""

# ARGV: expect_absent ('1'/'0'), expected, new value, ttl in ms ('' = none).
COMPARE_AND_SET_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
if ARGV[4] == '' then
  redis.call('SET', KEYS[1], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
end
return 1
"""


class RedisCacheOptions(Schema):
    class Meta:
        unknown = RAISE

    url = SecretField(load_default=Secret("redis://127.0.0.1:6379/0"))
    key_prefix = fields.String(load_default="avreg:")
    socket_timeout = fields.Float(
        load_default=5.0, validate=validate.Range(min=0, min_inclusive=False)
    )
    socket_connect_timeout = fields.Float(
        load_default=5.0, validate=validate.Range(min=0, min_inclusive=False)
    )
    max_connections = fields.Integer(load_default=50, validate=validate.Range(min=1))

    @validates("url")
    def _known_scheme(self, value: Secret, **kwargs: Any) -> None:
        url = value.reveal()
        if urlsplit(url).scheme not in URL_SCHEMES:
            raise ValidationError(f"must be a {', '.join(URL_SCHEMES)}:// URL.")
        try:
            parse_topology(url)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def ttl_milliseconds(ttl: float | None) -> int | None:
    if ttl is None:
        return None
    if ttl <= 0:
        raise ValueError(f"ttl must be positive seconds or None, not {ttl!r}")
    return max(1, math.ceil(ttl * 1000))


def redact_url(url: str) -> str:
    """The URL without its password (or query, where redis-py also accepts one)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        username = userinfo.partition(":")[0]
        netloc = f"{username}:{MASK}@{host}" if ":" in userinfo else f"{username}@{host}"
    return urlunsplit(parts._replace(netloc=netloc, query="", fragment=""))


class RedisCache(CacheBackend):
    name = "redis"

    def __init__(
        self,
        url: Secret,
        key_prefix: str = "avreg:",
        socket_timeout: float = 5.0,
        socket_connect_timeout: float = 5.0,
        max_connections: int = 50,
    ) -> None:
        self.url = url
        self.key_prefix = key_prefix
        self.socket_timeout = socket_timeout
        self.socket_connect_timeout = socket_connect_timeout
        self.max_connections = max_connections
        self._client: Any = None
        self._sentinel: Any = None
        self._incr_script: Any = None
        self._compare_and_set_script: Any = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: BackendContext) -> RedisCache:
        """Build from options already validated by :class:`RedisCacheOptions`."""
        return cls(
            url=options["url"],
            key_prefix=options["key_prefix"],
            socket_timeout=options["socket_timeout"],
            socket_connect_timeout=options["socket_connect_timeout"],
            max_connections=options["max_connections"],
        )

    def describe(self) -> str:
        return f"redis {redact_url(self.url.reveal())} (key prefix {self.key_prefix!r})"

    async def open(self) -> None:
        if aioredis is None:
            raise ConfigError(
                "the redis cache backend needs the 'redis' extra: "
                "pip install 'agentvault-registry[redis]'"
            )
        try:
            self._client = self._connect(parse_topology(self.url.reveal()))
        except ValueError as exc:
            raise ConfigError(f"the redis cache url is invalid: {exc}") from None
        self._incr_script = self._client.register_script(INCR_SCRIPT)
        self._compare_and_set_script = self._client.register_script(COMPARE_AND_SET_SCRIPT)
        try:
            await self.ping()
        except BaseException:
            await self.close()
            raise

    def _connect(self, topology: RedisTopology | None) -> Any:
        timeouts = {
            "socket_timeout": self.socket_timeout,
            "socket_connect_timeout": self.socket_connect_timeout,
        }
        # No automatic retries: a retried INCR or GETDEL whose reply was lost would apply
        # twice. Broken connections are replaced when next taken from the pool (and a cluster
        # re-reads its slot map, a sentinel client asks for the master again), so the cache
        # recovers by itself once Redis is back. Slot redirects (MOVED/ASK) are no retries:
        # the command did not run, and the cluster client always follows them.
        no_retry = Retry(NoBackoff(), 0)
        if topology is None:
            pool = aioredis.BlockingConnectionPool.from_url(
                self.url.reveal(),
                max_connections=self.max_connections,
                # Waiting for a free connection is bounded like any other Redis call.
                timeout=self.socket_timeout,
                retry=no_retry,
                **timeouts,
            )
            return aioredis.Redis.from_pool(pool)
        credentials = {"username": topology.username, "password": topology.password}
        if topology.is_cluster:
            return aioredis.RedisCluster(
                startup_nodes=[ClusterNode(host, port) for host, port in topology.nodes],
                max_connections=self.max_connections,  # per node
                retry=no_retry,
                **credentials,
                **timeouts,
            )
        self._sentinel = aioredis.Sentinel(list(topology.nodes), sentinel_kwargs=dict(timeouts))
        return self._sentinel.master_for(
            topology.service_name,
            db=topology.db,
            max_connections=self.max_connections,
            retry=no_retry,
            **credentials,
            **timeouts,
        )

    async def close(self) -> None:
        client, self._client = self._client, None
        sentinel, self._sentinel = self._sentinel, None
        if client is not None:
            await client.aclose()
        for sentinel_client in sentinel.sentinels if sentinel is not None else ():
            await sentinel_client.aclose()

    async def ping(self) -> None:
        with self._driver_errors():
            await self._redis().ping()

    async def get(self, key: str) -> bytes | None:
        with self._driver_errors():
            return await self._redis().get(self._key(key))

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        milliseconds = ttl_milliseconds(ttl)
        with self._driver_errors():
            await self._redis().set(self._key(key), value, px=milliseconds)

    async def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        milliseconds = ttl_milliseconds(ttl)
        with self._driver_errors():
            return bool(await self._redis().set(self._key(key), value, px=milliseconds, nx=True))

    async def delete(self, key: str) -> bool:
        with self._driver_errors():
            return await self._redis().delete(self._key(key)) > 0

    async def pop(self, key: str) -> bytes | None:
        with self._driver_errors():
            return await self._redis().getdel(self._key(key))

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        milliseconds = ttl_milliseconds(ttl)
        args = [amount, milliseconds or ""]
        client = self._redis()
        with self._driver_errors():
            try:
                return int(await self._incr_script(keys=[self._key(key)], args=args, client=client))
            except redis_errors.ResponseError as exc:
                if "not an integer" in str(exc):
                    raise ValueError("the cached value is not an integer counter") from None
                raise

    async def compare_and_set(
        self, key: str, expected: bytes | None, value: bytes, ttl: float | None = None
    ) -> bool:
        milliseconds = ttl_milliseconds(ttl)
        args = ["1" if expected is None else "0", expected or b"", value, milliseconds or ""]
        with self._driver_errors():
            return bool(
                await self._compare_and_set_script(
                    keys=[self._key(key)], args=args, client=self._redis()
                )
            )

    async def ttl(self, key: str) -> float | None:
        with self._driver_errors():
            milliseconds = await self._redis().pttl(self._key(key))
        # PTTL answers -2 for a missing key and -1 for a key without expiry.
        return None if milliseconds < 0 else milliseconds / 1000

    # ------------------------------------------------------------------ internals

    def _redis(self) -> Any:
        if self._client is None:
            raise BackendError("The redis cache is not open.", backend=self.name)
        return self._client

    def _key(self, key: str) -> str:
        return self.key_prefix + key

    @contextmanager
    def _driver_errors(self) -> Iterator[None]:
        with translate_errors(self.name, DRIVER_ERRORS):
            yield
