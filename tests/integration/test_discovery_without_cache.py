"""Discovery while Redis is down: searches answer from the records backend, uncached."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.redis, pytest.mark.slow]

PASSWORD = "correct horse battery staple 42"
SEARCH = "/api/v1/discovery/agents?capabilities=survive"


@pytest.fixture
def client(private_redis_client):
    return private_redis_client


async def test_searches_answer_while_redis_is_down_and_after(client, private_redis):
    await client.post(
        "/api/v1/auth/register",
        json={"email": "ada@example.org", "username": "ada", "password": PASSWORD},
    )
    login = await client.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {(await login.json())['access_token']}"}
    created = await client.post(
        "/api/v1/agents",
        json={
            "name": "Survivor",
            "description": "Still found when the cache is gone.",
            "apiEndpoints": ["https://survivor.example.net/a2a"],
            "capabilities": ["survive"],
        },
        headers=headers,
    )
    assert created.status == 201
    assert (await client.get(SEARCH)).status == 200  # now cached in Redis

    private_redis.kill()
    for _ in range(3):
        response = await client.get(SEARCH)
        assert response.status == 200, await response.text()
        assert [agent["name"] for agent in (await response.json())["agents"]] == ["Survivor"]
    capabilities = await client.get("/api/v1/discovery/capabilities")
    assert capabilities.status == 200

    private_redis.start()
    response = await client.get(SEARCH)
    assert response.status == 200
    assert [agent["name"] for agent in (await response.json())["agents"]] == ["Survivor"]
