"""Helpers shared by the auth tests."""

from __future__ import annotations

import asyncio
import re

from agentvault_registry.plugins.mail.appkeys import MAILER
from support import merged

PASSWORD = "correct horse battery staple 42"
AUTH_LIMITS = (
    "auth.login",
    "auth.register",
    "auth.refresh",
    "auth.recover",
    "auth.api_keys",
    "auth.password",
    "auth.verify_email",
    "auth.recover_confirm",
    "auth.login_failures",
)


def fast_auth(**extra) -> dict:
    """Overrides: bcrypt at its minimum cost and rate limits no test reaches by accident."""
    overrides = {
        "plugins": {"auth": {"bcrypt_cost": 4}},
        "rate_limits": {name: "10000/minute" for name in AUTH_LIMITS},
    }
    return merged(overrides, extra)


async def wait_for_mail(app, count: int) -> None:
    """Until the console mailer has caught ``count`` messages (some are sent in background)."""
    for _ in range(200):
        if len(app[MAILER].outbox) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} mails, got {len(app[MAILER].outbox)}")


def mailed_token(app, kind: str) -> str:
    """The token in the last mail the console mailer caught."""
    message = app[MAILER].outbox[-1]
    match = re.search(rf"{kind}#token=([A-Za-z0-9_\-]+)", message.text)
    assert match, message.text
    return match.group(1)


async def register(client, username="ada", email=None, password=PASSWORD):
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": email or f"{username}@example.org",
            "username": username,
            "password": password,
        },
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def login(client, username="ada", password=PASSWORD):
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def signed_up(client, username="ada"):
    """Register and log in; the token pair."""
    await register(client, username)
    return await login(client, username)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
