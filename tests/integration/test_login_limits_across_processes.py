"""The login limit holds for the registry as a whole, not per process."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from registry_processes import running_registries

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

LIMIT = 6
PASSWORD = "correct horse battery staple 42"


async def test_n_plus_5_logins_over_two_processes_get_exactly_n_answers(
    tmp_path, fresh_postgres_dsn, redis_server_url, redis_key_prefix
):
    env = {
        "AVREG_MODE": "development",
        "AVREG_STORAGE__RECORDS__BACKEND": "postgresql",
        "AVREG_STORAGE__RECORDS__DSN": fresh_postgres_dsn,
        "AVREG_STORAGE__CACHE__BACKEND": "redis",
        "AVREG_STORAGE__CACHE__URL": redis_server_url,
        "AVREG_STORAGE__CACHE__KEY_PREFIX": redis_key_prefix,
        "AVREG_SECURITY__JWT_SECRET": "s" * 48,
        "AVREG_PLUGINS__AUTH__BCRYPT_COST": "4",
        "AVREG_RATE_LIMITS__AUTH__LOGIN": f"{LIMIT}/day",
    }
    async with (
        running_registries(tmp_path, [env, env]) as registries,
        aiohttp.ClientSession() as session,
    ):
        registered = await session.post(
            f"{registries[0].url}/api/v1/auth/register",
            json={"email": "ada@example.org", "username": "ada", "password": PASSWORD},
        )
        assert registered.status == 201

        async def log_in(registry):
            async with session.post(
                f"{registry.url}/api/v1/auth/login",
                json={"username": "ada", "password": PASSWORD},
            ) as response:
                return registry.port, response.status

        answers = await asyncio.gather(*(log_in(registries[i % 2]) for i in range(LIMIT + 5)))

    # Each process alone would allow LIMIT; together they allowed LIMIT: one shared count.
    statuses = [status for _, status in answers]
    assert statuses.count(200) == LIMIT, answers
    assert statuses.count(429) == 5, answers
