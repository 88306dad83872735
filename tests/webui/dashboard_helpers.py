"""What the dashboard and Mission Control tests share: agents that register themselves, and
streams the server drops."""

from __future__ import annotations

from typing import Any

from agentvault_registry.plugins.events.appkeys import EVENT_HUB
from registry_harness import Registry

TOKENS = "/api/v1/onboard/bootstrap/tokens"
REQUEST_TOKEN = "/api/v1/onboard/bootstrap/request-token"
SELF_REGISTER = "/api/v1/onboard/register"
#: How long something the API did may take to show in the browser.
LIVE_MS = 5_000


async def mint_token(registry: Registry, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    return await registry.json("POST", REQUEST_TOKEN, expect=201, json=body, headers=headers)


async def self_register(registry: Registry, headers: dict[str, str], name: str) -> dict[str, Any]:
    """An agent registering itself with a bootstrap token its developer minted: the agent."""
    minted = await mint_token(registry, headers)
    registered = await registry.json(
        "POST",
        SELF_REGISTER,
        expect=201,
        json={
            "name": name,
            "description": f"{name} registered itself.",
            "apiEndpoints": [f"https://{name.lower()}.example.net/a2a"],
        },
        headers={"Bootstrap-Token": minted["bootstrap_token"]},
    )
    return registered["agent"]


def drop_event_streams(registry: Registry) -> int:
    """End every open event stream from the server's side, as a restart or a proxy would;
    how many there were. (The hub keeps its subscribers private: no API closes them.)"""
    hub = registry.app[EVENT_HUB]
    subscriptions = list(hub._subscribers)
    for subscription in subscriptions:
        hub.unsubscribe(subscription, "closed")
    return len(subscriptions)
