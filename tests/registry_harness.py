"""Registries on loopback for tests that need real listening servers (federation, mTLS): each
its own app, storage and port, peered through the admin API; and fake peers that misbehave on
purpose."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import ssl
import struct
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from agentvault_registry.core import jws
from agentvault_registry.core.app import create_app, server_ssl_context
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.core.signing_keys import SigningKey, generated_key_pem, signing_key
from agentvault_registry.plugins.auth.appkeys import AUTH_SERVICE
from agentvault_registry.plugins.federation.origin import ORIGIN_SIGNATURE
from support import free_port

PASSWORD = "correct horse battery staple 42"
PEERS = "/api/v1/admin/federation/peers"
QUERY = "/api/v1/internal/federation/query"
CHANGES = "/api/v1/internal/federation/changes"
SEARCH = "/api/v1/discovery/agents"
LIMITS = (
    "auth.login",
    "auth.register",
    "auth.refresh",
    "auth.login_failures",
    "agents.create",
    "discovery.search",
    "federation.query",
    "federation.changes",
)


def deep_merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` laid over it at every depth."""
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merged(result[key], value)
        else:
            result[key] = value
    return result


def big_json(document: Any) -> dict[str, Any]:
    """Request arguments sending a large JSON body as a stream (as aiohttp wants it)."""
    return {
        "data": io.BytesIO(json.dumps(document).encode()),
        "headers": {"Content-Type": "application/json"},
    }


def app_overrides(**extra: Any) -> dict[str, Any]:
    """Fast hashing, limits no test reaches by accident, and peers on loopback over http."""
    overrides: dict[str, Any] = {
        "plugins": {
            "auth": {"bcrypt_cost": 4},
            "federation": {"allow_http": True, "allow_private_peers": True},
        },
        "rate_limits": {name: "100000/minute" for name in LIMITS},
    }
    return deep_merged(overrides, extra)


class InboundLog:
    """A plugin that notes every request whose caller is resolved (each federation query is
    one), so a test can count the queries a registry received."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    @hookimpl
    def identity_from_request(self, request: web.Request) -> None:
        self.paths.append(request.path)

    def count(self, path: str = QUERY) -> int:
        return self.paths.count(path)


@dataclass
class Registry:
    name: str
    app: web.Application
    runner: web.AppRunner
    url: str
    session: aiohttp.ClientSession
    inbound: InboundLog
    admin: dict[str, str] = field(default_factory=dict)

    async def request(self, method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        response = await self.session.request(method, self.url + path, **kwargs)
        await response.read()
        return response

    async def json(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        assert response.status == expect, await response.text()
        return await response.json() if response.status != 204 else None

    async def account(self, username: str, role: str | None = None) -> dict[str, str]:
        """Register and log in ``username``; bearer headers."""
        user = await self.json(
            "POST",
            "/api/v1/auth/register",
            expect=201,
            json={
                "email": f"{username}@example.org",
                "username": username,
                "password": PASSWORD,
            },
        )
        if role is not None:
            await self.app[AUTH_SERVICE].set_role(user["id"], role)
        login = await self.json(
            "POST", "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        return {"Authorization": f"Bearer {login['access_token']}"}

    async def add_agent(self, headers: dict[str, str], name: str, **body: Any) -> dict[str, Any]:
        payload = {
            "name": name,
            "description": f"{name} does its job.",
            "apiEndpoints": [f"https://{name.lower().replace(' ', '-')}.example.net/a2a"],
        } | body
        return await self.json("POST", "/api/v1/agents", expect=201, json=payload, headers=headers)

    async def add_peer(self, name: str, url: str, token: str, **extra: Any) -> dict[str, Any]:
        body = {
            "name": name,
            "registry_url": url,
            "admin_contact": f"admin@{name.lower()}.example.org",
            "federation_access_token": token,
        } | extra
        return await self.json("POST", PEERS, expect=201, json=body, headers=self.admin)

    async def search(self, query: str = "", **params: Any) -> dict[str, Any]:
        params = {"include_federated": "true", **params}
        if query:
            params["q"] = query
        return await self.json("GET", SEARCH, params=params)


async def peer_with(home: Registry, other: Registry) -> dict[str, Any]:
    """Let ``home`` query ``other``: ``other`` issues a token for ``home``, which ``home`` stores
    as its outbound token. Returns ``home``'s peer record of ``other``."""
    on_other = await other.add_peer(home.name, home.url, "avf_placeholder_home_never_queried")
    return await home.add_peer(other.name, other.url, on_other["inbound_token"])


async def peer_both_ways(a: Registry, b: Registry) -> None:
    """Each of ``a`` and ``b`` queries the other."""
    b_on_a = await a.add_peer(b.name, b.url, "avf_to_be_replaced")
    a_on_b = await b.add_peer(a.name, a.url, b_on_a["inbound_token"])
    await a.json(
        "PUT",
        f"{PEERS}/{b_on_a['id']}",
        json={"federation_access_token": a_on_b["inbound_token"]},
        headers=a.admin,
    )


StartRegistry = Callable[..., Awaitable[Registry]]


async def start_registry(
    make_settings_for: Callable[..., Any],
    name: str,
    overrides: dict[str, Any] | None = None,
    *,
    client_ssl: ssl.SSLContext | bool = True,
    plugins: Sequence[tuple[str, object]] = (),
) -> Registry:
    """A registry listening on loopback, over TLS when a plugin serves it (``client_ssl`` is
    then how the test's own session verifies it), with extra ``(name, plugin)`` pairs."""
    inbound = InboundLog()
    settings, pm = make_settings_for(
        deep_merged(app_overrides(registry={"name": name}), overrides or {}),
        plugins=[(f"inbound_log_{uuid.uuid4().hex[:6]}", inbound), *plugins],
    )
    app = create_app(settings, pm)
    serving_tls = server_ssl_context(app)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=serving_tls).start()
    scheme = "http" if serving_tls is None else "https"
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_ssl))
    registry = Registry(name, app, runner, f"{scheme}://127.0.0.1:{port}", session, inbound)
    registry.admin = await registry.account(f"admin{uuid.uuid4().hex[:6]}", role="admin")
    return registry


@asynccontextmanager
async def registries(
    make_settings_for: Callable[..., Any],
    data_root: Path,
    *,
    client_ssl: ssl.SSLContext | bool = True,
) -> AsyncIterator[StartRegistry]:
    """``await start(name, overrides)``: :func:`start_registry` with ``client_ssl``, each
    registry's data (SQLite records) in a directory of its own under ``data_root`` unless
    ``overrides`` say otherwise; all of them stopped on leaving."""
    started: list[Registry] = []

    async def start(
        name: str,
        overrides: dict[str, Any] | None = None,
        plugins: Sequence[tuple[str, object]] = (),
    ) -> Registry:
        own = {"data_dir": str(data_root / f"registry-{len(started)}")}
        registry = await start_registry(
            make_settings_for,
            name,
            deep_merged(own, overrides or {}),
            client_ssl=client_ssl,
            plugins=plugins,
        )
        started.append(registry)
        return registry

    try:
        yield start
    finally:
        for registry in started:
            await registry.session.close()
            await registry.runner.cleanup()


# ------------------------------------------------------------------------ fake peers


def remote_agent(name: str, did: str | None = None, **extra: Any) -> dict[str, Any]:
    """An agent in the discovery shape, as a peer answers it."""
    agent_id = str(uuid.uuid4())
    return {
        "id": agent_id,
        "did": did or f"did:agentvault:{agent_id}",
        "name": name,
        "agentType": "assistant",
        "status": "active",
        "description": f"{name} lives elsewhere.",
        "humanReadableId": name.lower().replace(" ", "-"),
        "capabilities": ["translate"],
        "tags": [],
        "createdAt": "2026-01-01T00:00:00+00:00",
        "updatedAt": "2026-01-01T00:00:00+00:00",
    } | extra


@dataclass
class FakePeer:
    """A loopback server answering the federation query with whatever a test tells it."""

    url: str
    runner: web.AppRunner
    hits: list[dict[str, Any]] = field(default_factory=list)

    async def close(self) -> None:
        await self.runner.cleanup()


Behaviour = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def start_fake_peer(behaviour: Behaviour, changes: Behaviour | None = None) -> FakePeer:
    peer: FakePeer

    async def query(request: web.Request) -> web.StreamResponse:
        peer.hits.append({"headers": dict(request.headers), "body": await request.json()})
        return await behaviour(request)

    async def jwks(request: web.Request) -> web.Response:
        return web.json_response({"keys": [FAKE_PEER_KEY.public_jwk]})

    app = web.Application()
    app.router.add_post(QUERY, query)
    app.router.add_get("/.well-known/jwks.json", jwks)
    if changes is not None:
        app.router.add_get(CHANGES, changes)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    peer = FakePeer(f"http://127.0.0.1:{port}", runner)
    return peer


#: The key a fake peer signs its agents with, as a registry does; its JWK Set serves it.
FAKE_PEER_KEY = signing_key(generated_key_pem(), "fake peer key")


def origin_signed(agent: dict[str, Any], key: SigningKey = FAKE_PEER_KEY) -> dict[str, Any]:
    """``agent`` with the origin signature a registry adds to the agents it answers with."""
    payload = jws.canonical_payload(agent, ORIGIN_SIGNATURE)
    return {**agent, ORIGIN_SIGNATURE: jws.sign(payload, key, {})}


def answering(*agents: dict[str, Any], name: str = "Fake", signed: bool = True) -> Behaviour:
    """Answer with ``agents``, each signed with :data:`FAKE_PEER_KEY` unless ``signed`` is
    False (or the test signed it itself)."""
    sent = [
        origin_signed(agent) if signed and ORIGIN_SIGNATURE not in agent else agent
        for agent in agents
    ]

    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"agents": sent, "registry": {"name": name, "url": "x"}})

    return answer


async def hanging(request: web.Request) -> web.Response:
    await asyncio.sleep(3600)
    raise AssertionError("unreachable")


async def failing(request: web.Request) -> web.Response:
    return web.json_response({"error": "boom"}, status=500)


async def not_json(request: web.Request) -> web.Response:
    return web.Response(text="<html>not json</html>", content_type="text/html")


async def huge_body(request: web.Request) -> web.StreamResponse:
    """50 MB of JSON-looking bytes, streamed without a Content-Length (so only reading it
    shows how big it is)."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(b'{"agents": ["')
    chunk = b"x" * (1024 * 1024)
    try:
        for _ in range(50):
            await response.write(chunk)
    except (ConnectionResetError, aiohttp.ClientConnectionResetError):
        return response  # the registry stopped reading, as it should
    await response.write(b'"]}')
    return response


async def resetting_mid_body(request: web.Request) -> web.StreamResponse:
    """Promise a 64 KiB answer, send the first bytes of it, then reset the connection (an
    RST, not a clean close: SO_LINGER 0), as a peer that crashes while answering."""
    response = web.StreamResponse(
        headers={"Content-Type": "application/json", "Content-Length": str(64 * 1024)}
    )
    await response.prepare(request)
    await response.write(b'{"agents": [{"id": "')
    await asyncio.sleep(0.05)  # let the start of the body reach the registry
    transport = request.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return response


def trickling(interval: float) -> Behaviour:
    """Answer a valid, empty federation answer one byte every ``interval`` seconds: each read
    sees progress, only the whole answer is late."""
    body = json.dumps({"agents": [], "registry": {"name": "Trickle", "url": "x"}}).encode()

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "application/json", "Content-Length": str(len(body))}
        )
        await response.prepare(request)
        try:
            for index in range(len(body)):
                await response.write(body[index : index + 1])
                await asyncio.sleep(interval)
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            pass  # the registry gave up on us, as it should
        return response

    return answer


async def redirecting_inside(request: web.Request) -> web.Response:
    raise web.HTTPTemporaryRedirect("http://169.254.169.254/latest/meta-data/")
