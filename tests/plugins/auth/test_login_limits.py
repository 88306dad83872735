"""Login is rate limited per client, and per account after repeated failures."""

from __future__ import annotations

import asyncio

import pytest
from auth_helpers import PASSWORD, fast_auth, register

LIMIT = 5


async def concurrent_logins(client, count):
    return await asyncio.gather(
        *(
            client.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
            for _ in range(count)
        )
    )


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def cache_overrides(request):
    if request.param == "memory":
        return {}
    url = request.getfixturevalue("redis_server_url")
    prefix = request.getfixturevalue("redis_key_prefix")
    return {"storage": {"cache": {"backend": "redis", "url": url, "key_prefix": prefix}}}


async def test_n_plus_5_concurrent_logins_get_exactly_n_answers(
    aiohttp_client, make_app, cache_overrides
):
    overrides = fast_auth(**cache_overrides)
    # A day-long window: a test never straddles two windows.
    overrides["rate_limits"]["auth.login"] = f"{LIMIT}/day"
    client = await aiohttp_client(make_app(overrides))
    await register(client)
    responses = await concurrent_logins(client, LIMIT + 5)
    statuses = sorted(response.status for response in responses)
    assert statuses == [200] * LIMIT + [429] * 5
    limited = next(response for response in responses if response.status == 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-RateLimit-Limit"] == str(LIMIT)
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert (await limited.json())["error"] == "rate_limited"


def three_failures_allowed() -> dict:
    overrides = fast_auth()
    overrides["rate_limits"]["auth.login_failures"] = "3/day"
    return overrides


async def test_an_account_is_locked_after_too_many_failed_logins(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(three_failures_allowed()))
    await register(client)
    for _ in range(3):
        wrong = await client.post(
            "/api/v1/auth/login", json={"username": "ada", "password": "not it 1234567"}
        )
        assert wrong.status == 401
    locked = await client.post("/api/v1/auth/login", json={"username": "ADA", "password": PASSWORD})
    assert locked.status == 429
    assert int(locked.headers["Retry-After"]) > 0


async def test_unknown_accounts_lock_the_same_way(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(three_failures_allowed()))
    statuses = [
        (
            await client.post(
                "/api/v1/auth/login", json={"username": "nobody", "password": PASSWORD}
            )
        ).status
        for _ in range(4)
    ]
    # The same answers as for a real account: the lock reveals nothing.
    assert statuses == [401, 401, 401, 429]


async def test_successful_logins_do_not_count_as_failures(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(three_failures_allowed()))
    await register(client)
    for _ in range(5):
        ok = await client.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
        assert ok.status == 200


async def test_concurrent_wrong_passwords_cannot_exceed_the_failure_limit(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(three_failures_allowed()))
    await register(client)
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/auth/login", json={"username": "ada", "password": "wrong 12345678"}
            )
            for _ in range(20)
        )
    )
    assert sorted(response.status for response in responses) == [401] * 3 + [429] * 17
