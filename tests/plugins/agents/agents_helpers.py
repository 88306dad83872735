"""Helpers shared by the agents tests: apps, accounts and requests."""

from __future__ import annotations

from typing import Any

from support import merged

PASSWORD = "correct horse battery staple 42"
LIMITS = (
    "auth.login",
    "auth.register",
    "auth.refresh",
    "auth.login_failures",
    "agents.create",
)


def app_overrides(**extra: Any) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "plugins": {"auth": {"bcrypt_cost": 4}},
        "rate_limits": {name: "100000/minute" for name in LIMITS},
    }
    return merged(overrides, extra)


async def account(client, username: str, *, role: str | None = None) -> dict[str, str]:
    """Register ``username`` (optionally with ``role``) and return bearer headers."""
    from agentvault_registry.plugins.auth.appkeys import AUTH_SERVICE

    response = await client.post(
        "/api/v1/auth/register",
        json={"email": f"{username}@example.org", "username": username, "password": PASSWORD},
    )
    assert response.status == 201, await response.text()
    user = await response.json()
    if role is not None:
        await client.app[AUTH_SERVICE].set_role(user["id"], role)
    login = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    token = (await login.json())["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def register_agent(client, headers, **body) -> dict[str, Any]:
    payload = {
        "name": "Echo",
        "description": "Echoes what it is told.",
        "apiEndpoints": ["https://echo.example.com/a2a"],
    } | body
    response = await client.post("/api/v1/agents", json=payload, headers=headers)
    assert response.status == 201, await response.text()
    return await response.json()
