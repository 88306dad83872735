"""Helpers shared by the activity tests: apps, accounts, agents, polling the feed."""

from __future__ import annotations

import asyncio
from typing import Any

from support import PASSWORD, merged

LIMITS = (
    "auth.login",
    "auth.register",
    "auth.refresh",
    "auth.login_failures",
    "auth.api_keys",
    "agents.create",
    "discovery.search",
)
ADMIN_FEED = "/api/v1/admin/activity"
OWN_FEED = "/api/v1/me/activity"
STATS = "/api/v1/admin/stats"


def app_overrides(**extra: Any) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "plugins": {"auth": {"bcrypt_cost": 4}},
        "rate_limits": {name: "100000/minute" for name in LIMITS},
    }
    return merged(overrides, extra)


async def account(client, username: str, *, role: str | None = None) -> tuple[dict, str]:
    """Register and log ``username`` in; its bearer headers and user id."""
    from agentvault_registry.plugins.auth.appkeys import AUTH_SERVICE

    response = await client.post(
        "/api/v1/auth/register",
        json={"email": f"{username}@example.org", "username": username, "password": PASSWORD},
    )
    assert response.status == 201, await response.text()
    user_id = (await response.json())["id"]
    if role is not None:
        await client.app[AUTH_SERVICE].set_role(user_id, role)
    login = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert login.status == 200, await login.text()
    return {"Authorization": f"Bearer {(await login.json())['access_token']}"}, user_id


async def register_agent(client, headers, name: str = "Echo", **body: Any) -> dict[str, Any]:
    payload = {
        "name": name,
        "description": "Echoes what it is told.",
        "apiEndpoints": ["https://echo.example.com/a2a"],
    } | body
    response = await client.post("/api/v1/agents", json=payload, headers=headers)
    assert response.status == 201, await response.text()
    return await response.json()


async def feed(client, headers, path: str = ADMIN_FEED, **query: Any) -> dict[str, Any]:
    response = await client.get(path, params=query, headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def entries_until(client, headers, count: int, **query: Any) -> list[dict[str, Any]]:
    """The admin feed's entries (with ``query``) once it has ``count`` of them: agent entries
    are recorded in the background, just after the response."""
    for _ in range(250):
        entries = (await feed(client, headers, limit=100, **query))["activity"]
        if len(entries) >= count:
            return entries
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} entries, got {entries}")
