"""Helpers shared by the TEG bridge tests: apps, developers, self-onboarded agents, keys, and
plugins that play the other side of the bridge's hooks."""

from __future__ import annotations

import asyncio
import re
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
from agentvault_registry.plugins.mail.appkeys import MAILER
from support import merged

PASSWORD = "correct horse battery staple 42"
TOKEN = "/api/v1/teg/token"
JWKS = "/.well-known/jwks.json"
#: Limits no test reaches by accident; the rate limit test sets its own.
LIMITS = (
    "auth.login",
    "auth.register",
    "auth.refresh",
    "auth.login_failures",
    "auth.verify_email",
    "agents.create",
    "bootstrap.request",
    "onboard.register_failures",
    "teg.token",
)
WALLET = "0x9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
PRICING = {"model": "per_call", "base_price": "0.002", "currency": "USD"}


def app_overrides(**extra: Any) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "plugins": {"auth": {"bcrypt_cost": 4}},
        "rate_limits": {name: "100000/minute" for name in LIMITS},
    }
    return merged(overrides, extra)


@dataclass(frozen=True)
class Agent:
    id: str
    did: str
    headers: dict[str, str]
    #: The developer's bearer headers.
    developer: dict[str, str]


async def developer(client, username: str) -> dict[str, str]:
    """Sign ``username`` up, verify the email through the mailed link, log in: bearer headers."""
    mails_before = len(client.app[MAILER].outbox)
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": f"{username}@example.org", "username": username, "password": PASSWORD},
    )
    assert response.status == 201, await response.text()
    for _ in range(250):
        if len(client.app[MAILER].outbox) > mails_before:
            break
        await asyncio.sleep(0.02)
    mail = client.app[MAILER].outbox[-1]
    token = re.search(r"verify-email#token=([A-Za-z0-9_\-]+)", mail.text).group(1)
    verified = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status == 200, await verified.text()
    login = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert login.status == 200, await login.text()
    return {"Authorization": f"Bearer {(await login.json())['access_token']}"}


async def onboarded_agent(client, name: str = "Ledger Bot", **registration: Any) -> Agent:
    """A developer mints a bootstrap token and an agent registers itself with it: the agent
    with its own key (an Identity of kind ``agent``)."""
    headers = await developer(client, f"dev{secrets.token_hex(4)}")
    minted = await client.post("/api/v1/onboard/bootstrap/request-token", json={}, headers=headers)
    assert minted.status == 201, await minted.text()
    body = {
        "name": name,
        "description": f"{name} pays and gets paid.",
        "apiEndpoints": ["https://ledger.example.com/a2a"],
    } | registration
    registered = await client.post(
        "/api/v1/onboard/register",
        json=body,
        headers={"Bootstrap-Token": (await minted.json())["bootstrap_token"]},
    )
    assert registered.status == 201, await registered.text()
    credentials = (await registered.json())["credentials"]
    return Agent(
        credentials["agent_id"],
        credentials["did"],
        {"X-API-Key": credentials["api_key"]},
        headers,
    )


async def ask_token(client, agent: Agent, body: Any = None, **kwargs: Any):
    """POST /teg/token as ``agent``: no body unless one is given."""
    if body is not None:
        kwargs["json"] = body
    return await client.post(TOKEN, headers=agent.headers, **kwargs)


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
