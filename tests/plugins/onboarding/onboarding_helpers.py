"""Helpers shared by the onboarding tests: apps, verified developers, tokens."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from agentvault_registry.plugins.mail.appkeys import MAILER
from support import merged

PASSWORD = "correct horse battery staple 42"
#: Limits no test reaches by accident; tests of a limit set it back.
LIMITS = (
    "auth.login",
    "auth.register",
    "auth.refresh",
    "auth.login_failures",
    "auth.verify_email",
    "auth.api_keys",
    "agents.create",
    "bootstrap.request",
    "onboard.register_failures",
)
TOKEN_FORMAT = re.compile(r"^BST_[A-Za-z0-9]{32}$")
REGISTRATION: dict[str, Any] = {
    "name": "Self Onboarded",
    "description": "Registered itself with a bootstrap token.",
    "apiEndpoints": ["https://self.example.com/a2a"],
}


def app_overrides(**extra: Any) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "plugins": {"auth": {"bcrypt_cost": 4}},
        "rate_limits": {name: "100000/minute" for name in LIMITS},
    }
    return merged(overrides, extra)


async def _mail_count_reaches(app, count: int) -> None:
    for _ in range(250):
        if len(app[MAILER].outbox) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} mails, got {len(app[MAILER].outbox)}")


async def developer(client, username: str, *, verified: bool = True) -> dict[str, str]:
    """Sign ``username`` up (verifying the email through the mailed link unless told not
    to) and return bearer headers."""
    mails_before = len(client.app[MAILER].outbox)
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": f"{username}@example.org", "username": username, "password": PASSWORD},
    )
    assert response.status == 201, await response.text()
    if verified:
        await _mail_count_reaches(client.app, mails_before + 1)
        mail = next(
            message
            for message in reversed(client.app[MAILER].outbox)
            if f"{username}@example.org" == message.to
        )
        token = re.search(r"verify-email#token=([A-Za-z0-9_\-]+)", mail.text).group(1)
        verified_response = await client.post("/api/v1/auth/verify-email", json={"token": token})
        assert verified_response.status == 200, await verified_response.text()
    login = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert login.status == 200, await login.text()
    return {"Authorization": f"Bearer {(await login.json())['access_token']}"}


async def mint(client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """A new bootstrap token of the caller's (the 201 body)."""
    response = await client.post(
        "/api/v1/onboard/bootstrap/request-token", json=body, headers=headers
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def redeem(client, token: str, body: dict[str, Any] | None = None):
    """POST /onboard/register with ``token`` in the header; the raw response."""
    return await client.post(
        "/api/v1/onboard/register",
        json=REGISTRATION if body is None else body,
        headers={"Bootstrap-Token": token},
    )


def agent_key(api_key: str) -> dict[str, str]:
    return {"X-API-Key": api_key}
