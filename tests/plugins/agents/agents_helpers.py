"""Helpers shared by the agents tests: apps, accounts and requests."""

from __future__ import annotations

from typing import Any

PASSWORD = "correct horse battery staple 42"
LIMITS = (
    "auth.login",
    "auth.register",
    "auth.refresh",
    "auth.login_failures",
    "agents.create",
)

V1_CARD: dict[str, Any] = {
    "name": "Translator",
    "description": "Translates documents between languages.",
    "supportedInterfaces": [
        {
            "url": "https://translator.example.com/a2a",
            "protocolBinding": "JSONRPC",
            "protocolVersion": "1.0",
        }
    ],
    "version": "2.1.0",
    "capabilities": {"streaming": True},
    "defaultInputModes": ["text/plain"],
    "defaultOutputModes": ["text/plain"],
    "skills": [
        {
            "id": "translate",
            "name": "Translate",
            "description": "Translate a text.",
            "tags": ["language", "translation"],
        }
    ],
}

V03_CARD: dict[str, Any] = {
    "protocolVersion": "0.3.0",
    "name": "Summarizer",
    "description": "Summarizes long documents.",
    "url": "https://summarizer.example.com/a2a",
    "preferredTransport": "JSONRPC",
    "version": "1.0.0",
    "capabilities": {"streaming": False},
    "defaultInputModes": ["text/plain"],
    "defaultOutputModes": ["text/plain"],
    "skills": [
        {"id": "summarize", "name": "Summarize", "description": "Summarize.", "tags": ["text"]}
    ],
}


def app_overrides(**extra: Any) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "plugins": {"auth": {"bcrypt_cost": 4}},
        "rate_limits": {name: "100000/minute" for name in LIMITS},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(overrides.get(key), dict):
            overrides[key] = {**overrides[key], **value}
        else:
            overrides[key] = value
    return overrides


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
