"""What the admin portal's browser tests share: an admin signed in straight onto a page."""

from __future__ import annotations

from typing import Any

from webui_harness import sign_in

PEERS = "/api/v1/admin/federation/peers"


async def admin_on(probe: Any, registry: Any, path: str, username: str = "root") -> dict[str, str]:
    """A new admin ``username`` signed in on ``path``; their bearer headers."""
    headers = await registry.account(username, role="admin")
    await sign_in(probe, registry, username, path)
    return headers
