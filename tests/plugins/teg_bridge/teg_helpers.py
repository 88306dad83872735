"""Helpers shared by the TEG bridge tests: apps, developers, self-onboarded agents, keys, and
plugins that play the other side of the bridge's hooks."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from agentvault_registry.core.appkeys import PLUGIN_MANAGER
from agentvault_registry.core.asyncutils import first_result
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.plugins.agents.appkeys import AGENT_SERVICE
from support import ONBOARDING_LIMITS, fast_registry, self_onboarded, sign_up

TOKEN = "/api/v1/teg/token"
JWKS = "/.well-known/jwks.json"
#: Limits no test reaches by accident; the rate limit test sets its own.
LIMITS = (*ONBOARDING_LIMITS, "teg.token")
WALLET = "0x9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
PRICING = {"model": "per_call", "base_price": "0.002", "currency": "USD"}


def app_overrides(**extra: Any) -> dict[str, Any]:
    return fast_registry(LIMITS, **extra)


@dataclass(frozen=True)
class Agent:
    id: str
    did: str
    headers: dict[str, str]
    #: The developer's bearer headers.
    developer: dict[str, str]


async def onboarded_agent(client, name: str = "Ledger Bot", **registration: Any) -> Agent:
    """A developer mints a bootstrap token and an agent registers itself with it: the agent
    with its own key (an Identity of kind ``agent``)."""
    headers = (await sign_up(client, f"dev{secrets.token_hex(4)}")).headers
    body = {
        "name": name,
        "description": f"{name} pays and gets paid.",
        "apiEndpoints": ["https://ledger.example.com/a2a"],
    } | registration
    credentials = (await self_onboarded(client, headers, body))["credentials"]
    return Agent(
        credentials["agent_id"],
        credentials["did"],
        {"X-API-Key": credentials["api_key"]},
        headers,
    )


async def ask_token(
    client, agent: Agent, body: Any = None, *, content_type: str | None = None, **kwargs: Any
):
    """POST /teg/token as ``agent``: no body unless one is given (``body`` as JSON, or raw
    ``data`` sent as ``content_type``)."""
    if body is not None:
        kwargs["json"] = body
    headers = agent.headers
    if content_type is not None:
        headers = {**headers, "Content-Type": content_type}
    return await client.post(TOKEN, headers=headers, **kwargs)


class Clock:
    """The token service's clock, moved by the test (the cache's freshness follows it)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# ------------------------------------------------------------------------------ keys


def ed25519_pem() -> str:
    return _pem(ed25519.Ed25519PrivateKey.generate())


def p256_pem() -> str:
    return _pem(ec.generate_private_key(ec.SECP256R1()))


def _pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


# --------------------------------------------------------------------------- plugins


class WorkloadIdentity:
    """Plays spiffe_identity: answers ``agent_assertion`` with a JWT-SVID of its own trust
    domain, signed with its own key, which the fake TEG is told to trust."""

    ISSUER = "spiffe://example.org"
    KID = "workload-svid-key"

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.public_key = self._key.public_key()
        self.audiences: list[str] = []
        #: Answer with this assertion instead of a fresh one (a replay), when set.
        self.replay: str | None = None

    def spiffe_id(self, agent_id: str) -> str:
        return f"{self.ISSUER}/agent/{agent_id}"

    @hookimpl
    def agent_assertion(self, app: web.Application, agent: Any, audience: str) -> Any:
        self.audiences.append(audience)
        return self._svid(agent, audience)

    async def _svid(self, agent: Any, audience: str) -> str:
        if self.replay is not None:
            return self.replay
        now = int(time.time())
        claims = {
            "iss": self.ISSUER,
            "sub": self.spiffe_id(agent.id),
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + 30,
            "jti": secrets.token_hex(16),
        }
        return jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self.KID})


class Declining:
    """An ``agent_assertion`` plugin that cannot vouch for agents: the registry signs."""

    def __init__(self) -> None:
        self.asked = 0

    @hookimpl
    def agent_assertion(self, app: web.Application, agent: Any, audience: str) -> None:
        self.asked += 1


PROBE = "/test/economics/{agent_id}"


class EconomicsProbe:
    """Another plugin that needs an agent's TEG token: it asks ``agent_teg_token``."""

    @hookimpl
    def register_routes(self, settings: Any) -> list[web.RouteDef]:
        return [web.get(PROBE, self.probe)]

    async def probe(self, request: web.Request) -> web.Response:
        app = request.app
        agent = await app[AGENT_SERVICE].get(request.match_info["agent_id"])
        token = await first_result(
            app[PLUGIN_MANAGER].hook.agent_teg_token(
                app=app, agent=agent, scope=request.query.get("scope")
            )
        )
        if token is None:
            return web.json_response({"token": None})
        return web.json_response(
            {
                "token": {
                    "access_token": token.access_token,
                    "token_type": token.token_type,
                    "scope": token.scope,
                    "expires_in": token.expires_in(),
                    "repr": repr(token),
                }
            }
        )
