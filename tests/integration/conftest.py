"""Private PostgreSQL and Redis servers that a test may kill and restart (see
:mod:`private_servers`, which the fault-injection tests and bench share)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from private_servers import (
    PrivatePostgres,
    PrivateRedis,
    postgres_bindir,
    running_postgres,
    running_redis,
)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    with running_redis(tmp_path) as server:
        yield server


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    with running_postgres(bindir) as server:
        yield server


@pytest.fixture
async def private_redis_client(aiohttp_client, make_app, private_redis):
    """A registry on SQLite whose cache is :func:`private_redis` (short timeouts, so an
    outage is noticed within seconds), for tests that stop and restart Redis."""
    app = make_app(
        {
            "plugins": {"auth": {"bcrypt_cost": 4}},
            "storage": {
                "cache": {
                    "backend": "redis",
                    "url": private_redis.url,
                    "socket_timeout": 2,
                    "socket_connect_timeout": 2,
                }
            },
        }
    )
    return await aiohttp_client(app)
