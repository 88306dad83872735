"""Helpers shared by the activity tests: apps, accounts, agents, polling the feed."""

from __future__ import annotations

import asyncio
from typing import Any

from support import SignedUp, merged, sign_up
from support import register_agent as register_agent  # re-exported for the tests

LIMITS = (
    "auth.login",
    "auth.register",
    "auth.refresh",
    "auth.login_failures",
    "auth.api_keys",
    "agents.create",
    "discovery.search",
    "auth.verify_email",
    "bootstrap.request",
    "onboard.register_failures",
)
ADMIN_FEED = "/api/v1/admin/activity"
OWN_FEED = "/api/v1/me/activity"
STATS = "/api/v1/admin/stats"


def app_overrides(**extra: Any) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "plugins": {
            "auth": {"bcrypt_cost": 4},
            "federation": {"allow_http": True, "allow_private_peers": True},
        },
        "rate_limits": {name: "100000/minute" for name in LIMITS},
    }
    return merged(overrides, extra)


async def account(client, username: str, *, role: str | None = None) -> SignedUp:
    """Register and log ``username`` in (email not verified): its bearer headers and id."""
    return await sign_up(client, username, verified=False, role=role)


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
