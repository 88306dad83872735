"""Helpers shared by the onboarding tests: apps, verified developers, tokens."""

from __future__ import annotations

import re
from typing import Any

from support import ONBOARDING_LIMITS, fast_registry, sign_up

TOKEN_FORMAT = re.compile(r"^BST_[A-Za-z0-9]{32}$")
REGISTRATION: dict[str, Any] = {
    "name": "Self Onboarded",
    "description": "Registered itself with a bootstrap token.",
    "apiEndpoints": ["https://self.example.com/a2a"],
}


def app_overrides(**extra: Any) -> dict[str, Any]:
    """Limits no test reaches by accident; tests of a limit set it back."""
    return fast_registry(ONBOARDING_LIMITS, **extra)


async def developer(client, username: str, *, verified: bool = True) -> dict[str, str]:
    """Sign ``username`` up (verifying the email through the mailed link unless told not
    to) and return bearer headers."""
    return (await sign_up(client, username, verified=verified)).headers


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
