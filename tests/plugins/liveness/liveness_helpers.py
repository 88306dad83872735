"""Helpers shared by the liveness tests: agents' origins on loopback, registries allowed to
reach them, and the requests the tests make."""

from __future__ import annotations

from typing import Any

# The liveness tests import the origin from here, as they did before it was shared.
from agent_origins import CARD_PATH as CARD_PATH
from agent_origins import LEGACY_CARD_PATH as LEGACY_CARD_PATH
from agent_origins import AgentOrigin, card_at
from agent_origins import Flights as Flights
from support import ONBOARDING_LIMITS, fast_registry, merged, sign_up

AGENTS = "/api/v1/agents"
#: Limits no test reaches by accident; the rate limit test sets its own.
LIMITS = (*ONBOARDING_LIMITS, "liveness.check")


def app_overrides(liveness: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A registry that may reach origins on loopback, with the scheduled prober off (tests
    run rounds themselves) and no politeness delay unless ``liveness`` says otherwise."""
    options = {"enabled": False, "per_host_delay": 0} | (liveness or {})
    base = fast_registry(
        LIMITS,
        outbound={"allow_private_targets": True},
        plugins={"auth": {"bcrypt_cost": 4}, "liveness": options},
    )
    return merged(base, extra)


async def developer(client, username: str, *, role: str | None = None) -> dict[str, str]:
    """Bearer headers of a new account (verified, so it may also mint bootstrap tokens)."""
    return (await sign_up(client, username, role=role)).headers


async def register(client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(AGENTS, json=body, headers=headers)
    assert response.status == 201, await response.text()
    return await response.json()


async def register_at(client, headers: dict[str, str], origin: AgentOrigin) -> dict[str, Any]:
    """An agent registered with the card ``origin`` serves (when it serves one)."""
    return await register(client, headers, card=card_at(origin.url))


async def check(client, agent_id: str, headers: dict[str, str], expect: int = 200) -> Any:
    """POST .../health/check; the answer's JSON."""
    response = await client.post(f"{AGENTS}/{agent_id}/health/check", headers=headers)
    assert response.status == expect, await response.text()
    return await response.json()


async def health(client, agent_id: str) -> dict[str, Any]:
    response = await client.get(f"{AGENTS}/{agent_id}/health")
    assert response.status == 200, await response.text()
    return await response.json()
