"""What the developer portal's and the wizard's browser tests share: signing in straight into
a page, a developer whose email is verified (bootstrap tokens need one), an agent card."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from webui_harness import wait_for_link

from registry_harness import PASSWORD, Registry


async def sign_in_at(probe: Any, registry: Registry, username: str, path: str) -> None:
    """Sign in through the form and land on ``path`` (the login page's ``next``)."""
    page = probe.page
    await page.goto(f"{registry.url}/ui/login?next={quote(path)}")
    await page.get_by_label("Username or email").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{registry.url}{path}")


async def verified_account(registry: Registry, inbox: Any, username: str) -> dict[str, str]:
    """``registry.account`` with the email verified through the mailed link."""
    await registry.json(
        "POST",
        "/api/v1/auth/register",
        expect=201,
        json={"email": f"{username}@example.org", "username": username, "password": PASSWORD},
    )
    link = await wait_for_link(inbox, "verify-email", f"{username}@example.org")
    token = re.search(r"token=([\w-]+)", link).group(1)
    await registry.json("POST", "/api/v1/auth/verify-email", json={"token": token})
    login = await registry.json(
        "POST", "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {login['access_token']}"}


def agent_card(name: str = "Card Agent", **extra: Any) -> dict[str, Any]:
    """A valid A2A 1.0 Agent Card."""
    return {
        "name": name,
        "description": f"{name} answers from its card.",
        "version": "1.0.0",
        "supportedInterfaces": [
            {
                "url": "https://card-agent.example.com/a2a",
                "protocolBinding": "JSONRPC",
                "protocolVersion": "1.0",
            }
        ],
        "capabilities": {"streaming": False},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [
            {
                "id": "answer",
                "name": "Answer",
                "description": "Answers questions.",
                "tags": ["qa"],
            }
        ],
    } | extra
