"""The assertion that proves an agent's identity to the TEG (RFC 7523): a workload identity
(a JWT-SVID) from a plugin answering ``agent_assertion`` when one does, else a JWT the
registry signs itself, verifiable with the keys it publishes at ``/.well-known/jwks.json``."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt

from agentvault_registry.core.signing_keys import SigningKey
from agentvault_registry.storage_backends.agents import AgentRecord

#: The longest lifetime an assertion may be given: it is a bearer credential in transit.
MAX_ASSERTION_TTL = 300
#: 128 random bits: the TEG refuses a ``jti`` it has seen, so it must never repeat.
JTI_BYTES = 16

AssertionHooks = Callable[[AgentRecord, str], Awaitable[Any]]


def economic_claims(agent: AgentRecord) -> dict[str, Any]:
    """What the TEG needs to know of the agent's economics, when the agent has it."""
    claims: dict[str, Any] = {}
    if agent.teg_wallet_address:
        claims["teg_wallet_address"] = agent.teg_wallet_address
    if agent.pricing:
        claims["pricing"] = dict(agent.pricing)
    return claims


class AssertionSigner:
    """Signs the registry's own assertions: ``iss`` the registry, ``sub`` the agent's DID."""

    def __init__(
        self, key: SigningKey, issuer: str, ttl: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.key = key
        self.issuer = issuer
        self.ttl = ttl
        self.clock = clock

    def sign(self, agent: AgentRecord, audience: str) -> str:
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "sub": agent.did,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
            "jti": secrets.token_urlsafe(JTI_BYTES),
            **economic_claims(agent),
        }
        return jwt.encode(
            claims,
            self.key.private_key,
            algorithm=self.key.algorithm,
            headers={"kid": self.key.kid},
        )


class AssertionSource:
    """The first ``agent_assertion`` answer, or the registry's own signature when none."""

    def __init__(self, from_hooks: AssertionHooks, signer: AssertionSigner) -> None:
        self.from_hooks = from_hooks
        self.signer = signer

    async def assertion(self, agent: AgentRecord, audience: str) -> str:
        supplied = await self.from_hooks(agent, audience)
        if supplied is None:
            return self.signer.sign(agent, audience)
        if not isinstance(supplied, str) or not supplied:
            # A plugin bug: it must answer with a compact JWT or not at all.
            raise TypeError(f"agent_assertion returned {type(supplied).__name__}, not a JWT")
        return supplied
