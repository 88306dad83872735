"""Auth while Redis is down: minting credentials fails closed, existing sessions keep working."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = [pytest.mark.redis, pytest.mark.slow]

PASSWORD = "correct horse battery staple 42"
RECOVERY_SECONDS = 20


@pytest.fixture
def client(private_redis_client):
    return private_redis_client


async def log_in(client):
    return await client.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})


async def test_redis_down_login_fails_closed_and_sessions_still_work(client, private_redis):
    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": "ada@example.org", "username": "ada", "password": PASSWORD},
    )
    assert registered.status == 201
    pair = await (await log_in(client)).json()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}

    private_redis.kill()
    refused = await log_in(client)
    assert refused.status == 503
    assert int(refused.headers["Retry-After"]) >= 1
    assert (await refused.json())["error"] == "backend_unavailable"
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.status == 200
    assert (await me.json())["username"] == "ada"

    private_redis.start()
    for _ in range(RECOVERY_SECONDS * 4):
        response = await log_in(client)
        if response.status == 200:
            break
        await asyncio.sleep(0.25)
    assert response.status == 200
    assert (await client.get("/api/v1/auth/me", headers=headers)).status == 200


async def test_a_session_ended_before_the_outage_stays_ended_during_it(client, private_redis):
    await client.post(
        "/api/v1/auth/register",
        json={"email": "ada@example.org", "username": "ada", "password": PASSWORD},
    )
    pair = await (await log_in(client)).json()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status == 204

    private_redis.kill()
    # The cache's denylist is gone with Redis; the records backend still knows the session ended.
    assert (await client.get("/api/v1/auth/me", headers=headers)).status == 401


async def test_logout_during_the_outage_works_and_outlives_the_cache(client, private_redis):
    await client.post(
        "/api/v1/auth/register",
        json={"email": "ada@example.org", "username": "ada", "password": PASSWORD},
    )
    pair = await (await log_in(client)).json()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}

    private_redis.kill()
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status == 204
    assert (await client.get("/api/v1/auth/me", headers=headers)).status == 401
    # Redis comes back empty (it keeps nothing on disk): the session stays ended.
    private_redis.start()
    assert (await client.get("/api/v1/auth/me", headers=headers)).status == 401
