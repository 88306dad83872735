"""Signing keys, a loopback JWK Set server and card signing for the card_trust tests."""

from __future__ import annotations

import asyncio
import copy
import json
from dataclasses import dataclass, field
from typing import Any

import jwt
import rfc8785
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.utils import base64url_encode

from support import fast_registry, free_port


@dataclass(frozen=True)
class TestKey:
    kid: str
    alg: str
    private: Any

    @property
    def public_jwk(self) -> dict[str, Any]:
        to_jwk = {"EdDSA": OKPAlgorithm, "ES256": ECAlgorithm, "RS256": RSAAlgorithm}[self.alg]
        jwk = to_jwk.to_jwk(self.private.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}


def new_key(alg: str, kid: str | None = None) -> TestKey:
    private = {
        "EdDSA": lambda: ed25519.Ed25519PrivateKey.generate(),
        "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
        "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }[alg]()
    return TestKey(kid or f"{alg.lower()}-key", alg, private)


def payload_of(card: dict[str, Any]) -> bytes:
    return rfc8785.dumps({key: value for key, value in card.items() if key != "signatures"})


def signature(card: dict[str, Any], key: TestKey, **header: Any) -> dict[str, str]:
    """A detached JWS of ``card`` (A2A §8.4) by ``key``; ``header`` joins the protected one."""
    token = jwt.api_jws.encode(
        payload_of(card),
        key.private,
        algorithm=key.alg,
        headers={"kid": key.kid, "typ": "JOSE", **header},
    )
    protected, _, value = token.split(".")
    return {"protected": protected, "signature": value}


def signed(card: dict[str, Any], key: TestKey, **header: Any) -> dict[str, Any]:
    document = copy.deepcopy(card)
    document["signatures"] = [signature(card, key, **header)]
    return document


def unsigned_header(header: dict[str, Any]) -> str:
    return base64url_encode(json.dumps(header).encode()).decode()


@dataclass
class KeyServer:
    """A loopback origin serving ``/.well-known/jwks.json`` (and ``/keys/other.json``)."""

    origin: str
    runner: web.AppRunner
    keys: list[dict[str, Any]] = field(default_factory=list)
    other_keys: list[dict[str, Any]] = field(default_factory=list)
    hits: int = 0
    #: Never answer: a key server that hangs.
    hangs: bool = False

    @property
    def host(self) -> str:
        return self.origin.split("//", 1)[1].split(":")[0]

    def card(self, name: str = "Signed Agent", **extra: Any) -> dict[str, Any]:
        """A v1.0 card whose interface is on this origin."""
        return {
            "name": name,
            "description": "An agent whose card is signed.",
            "supportedInterfaces": [
                {
                    "url": f"{self.origin}/a2a",
                    "protocolBinding": "JSONRPC",
                    "protocolVersion": "1.0",
                }
            ],
            "version": "1.0.0",
            "capabilities": {"streaming": False},
            "defaultInputModes": ["text/plain"],
            "defaultOutputModes": ["text/plain"],
            "skills": [{"id": "sign", "name": "Sign", "description": "Signs.", "tags": ["x"]}],
        } | extra


async def start_key_server(host: str = "127.0.0.1") -> KeyServer:
    server: KeyServer

    async def jwks(request: web.Request) -> web.Response:
        server.hits += 1
        if server.hangs:
            await asyncio.sleep(3600)
        return web.json_response({"keys": server.keys})

    async def other(request: web.Request) -> web.Response:
        return web.json_response({"keys": server.other_keys})

    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", jwks)
    app.router.add_get("/keys/other.json", other)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, host, port).start()
    server = KeyServer(f"http://{host}:{port}", runner)
    return server


LIMITS = ("auth.login", "auth.register", "auth.refresh", "auth.login_failures", "agents.create")


def trust_overrides(private: bool = True, storage: dict | None = None, **card_trust) -> dict:
    """A registry that may fetch from loopback (``private``) over http, with ``card_trust``
    options and ``storage`` overrides."""
    return fast_registry(
        LIMITS,
        outbound={"allow_private_targets": private},
        plugins={"card_trust": {"allow_http_keys": True, **card_trust}},
        storage=storage or {},
    )
