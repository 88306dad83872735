"""What the admin portal's browser tests share: signing in straight onto an admin page."""

from __future__ import annotations

from typing import Any

from registry_harness import PASSWORD

PEERS = "/api/v1/admin/federation/peers"


async def sign_in_to(probe: Any, registry: Any, username: str, path: str) -> None:
    """Sign in through the login form with ``?next=path`` and wait for that page's heading."""
    page = probe.page
    # No transitions: axe then judges colours at rest, never halfway through a hover fade.
    await page.emulate_media(reduced_motion="reduce")
    await page.goto(f"{registry.url}/ui/login?next={path}")
    await page.get_by_label("Username or email").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{registry.url}{path}")
    await page.locator("main h1").first.wait_for()


async def admin_on(probe: Any, registry: Any, path: str, username: str = "root") -> dict[str, str]:
    """A new admin ``username`` signed in on ``path``; their bearer headers."""
    headers = await registry.account(username, role="admin")
    await sign_in_to(probe, registry, username, path)
    return headers
