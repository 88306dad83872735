"""Login is rate limited per client, and per account after repeated failures."""

from __future__ import annotations

import asyncio

import pytest
from auth_helpers import PASSWORD, fast_auth, mailed_token, register, wait_for_mail

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
    overrides["rate_limits"]["auth.login"] = f"{LIMIT}/minute"
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


async def test_an_account_is_locked_after_too_many_failed_logins(aiohttp_client, make_app):
    client = await aiohttp_client(
        make_app(fast_auth(plugins={"auth": {"bcrypt_cost": 4, "max_failed_logins_per_hour": 3}}))
    )
    await register(client)
    for _ in range(3):
        wrong = await client.post(
            "/api/v1/auth/login", json={"username": "ada", "password": "not it 1234567"}
        )
        assert wrong.status == 401
    locked = await client.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
    assert locked.status == 429
    assert int(locked.headers["Retry-After"]) > 0
    # Unknown accounts are not locked (nothing to lock), and look like any wrong password.
    other = await client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": PASSWORD}
    )
    assert other.status == 401


async def test_a_password_reset_unlocks_the_account(aiohttp_client, make_app):
    client = await aiohttp_client(
        make_app(fast_auth(plugins={"auth": {"bcrypt_cost": 4, "max_failed_logins_per_hour": 1}}))
    )
    await register(client)
    await client.post("/api/v1/auth/login", json={"username": "ada", "password": "not it 1234567"})
    assert (
        await client.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
    ).status == 429
    await client.post("/api/v1/auth/recover", json={"email": "ada@example.org"})
    await wait_for_mail(client.app, 2)
    confirm = await client.post(
        "/api/v1/auth/recover/confirm",
        json={
            "token": mailed_token(client.app, "reset-password"),
            "new_password": "a fresh passphrase 2026",
        },
    )
    assert confirm.status == 204
    relogin = await client.post(
        "/api/v1/auth/login", json={"username": "ada", "password": "a fresh passphrase 2026"}
    )
    assert relogin.status == 200
