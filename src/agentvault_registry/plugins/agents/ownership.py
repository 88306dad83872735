"""Proving control of an agent's endpoint, the way ACME's http-01 proves a domain.

The developer asks for a challenge; the registry answers with a token and the URL under the
agent's own endpoint where the token must be served. On the next call the registry fetches
that URL (through the SSRF-safe client) and, if it holds the token, marks the agent verified.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from agentvault_registry.core.errors import ValidationFailed
from agentvault_registry.core.httpclient import SafeHttpClient
from agentvault_registry.core.identity import Identity
from agentvault_registry.plugins.agents.service import AgentService
from agentvault_registry.storage_backends.agents import AgentRecord
from agentvault_registry.storage_backends.base import CacheBackend

CHALLENGE_PATH = "/.well-known/agentvault-challenge/"
CHALLENGE_TTL = 3600
PENDING = "agents:challenge:"


def challenge_url(agent: AgentRecord, token: str) -> str:
    if not agent.api_endpoints:
        raise ValidationFailed(
            "An agent needs an API endpoint before its ownership can be verified.",
            details={"apiEndpoints": ["Required to verify ownership."]},
        )
    endpoint = urlsplit(agent.api_endpoints[0])
    return f"{endpoint.scheme}://{endpoint.netloc}{CHALLENGE_PATH}{token}"


class OwnershipVerifier:
    def __init__(self, cache: CacheBackend, http: SafeHttpClient, agents: AgentService) -> None:
        self.cache = cache
        self.http = http
        self.agents = agents

    async def verify(self, agent: AgentRecord, actor: Identity) -> dict[str, Any]:
        key = PENDING + agent.id
        pending = await self.cache.get(key)
        if pending is None:
            token = secrets.token_urlsafe(24)
            await self.cache.set(key, token.encode(), ttl=CHALLENGE_TTL)
            return {
                "status": "pending",
                "token": token,
                "url": challenge_url(agent, token),
                "expiresIn": CHALLENGE_TTL,
            }
        token = pending.decode()
        url = challenge_url(agent, token)
        fetched = await self.http.get(url)
        served = fetched.body.decode("utf-8", "replace").strip()
        if fetched.status != 200 or served != token:
            raise ValidationFailed(
                "The challenge was not served at its URL.",
                details={
                    "url": url,
                    "reason": f"HTTP {fetched.status}"
                    if fetched.status != 200
                    else "the response is not the token",
                },
            )
        await self.cache.delete(key)
        verified = await self.agents.mark_verified(agent, actor)
        assert verified.verified_at is not None
        return {"status": "verified", "verifiedAt": verified.verified_at.isoformat()}
