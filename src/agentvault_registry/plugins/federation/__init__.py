"""The federation plugin: registries that peer with each other answer each other's discovery
searches, so ``include_federated=true`` reaches agents listed elsewhere.

An admin adds a peer with the token the peer's admin issued us, and gets back, once, the
inbound token to hand to the peer's admin. Peers call ``POST /api/v1/internal/federation/query``
with that token and get our own agents only (a federated query is never passed on, so any
topology, loops included, costs one hop). Outbound, every active peer is asked in parallel
within a deadline; answers are checked (each agent must carry the peer's signature, see
:mod:`.origin`), cached, and a failing peer is skipped for a while.

Config example::

    [plugins.federation]
    token_key = { env = "AVREG_FEDERATION_KEY" }  # encrypts the tokens we present to peers
    previous_token_keys = []     # older keys, still decrypting tokens stored before a rotation
    allow_http = false           # peers at http:// URLs (https only otherwise)
    allow_private_peers = false  # peers at loopback or private addresses
    peer_timeout = 2.0           # seconds one peer has to answer
    deadline = 2.5               # seconds the whole fan-out may take
    max_response_bytes = 2097152 # a larger answer fails that peer
    cache_ttl = 300              # seconds a peer's answer to one query is reused; 0: off
    failure_threshold = 3        # consecutive failures that make a peer "unhealthy" ...
    backoff = 60                 # ... and skipped for this many seconds, then tried again
    require_peer_signatures = true  # drop peers' agents without the peer's valid signature
    peer_keys_ttl = 300          # seconds a peer's JWK Set is used before it is fetched again

    [rate_limits]
    "federation.query" = "30/minute"     # per peer
    "federation.changes" = "120/minute"  # per peer
    "federation.auth_failures" = "30/minute"  # invalid tokens per client IP
"""

from __future__ import annotations

import contextlib
from typing import Any

import click
from aiohttp import web
from marshmallow import Schema

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import PLUGIN_MANAGER, SETTINGS, STORAGE
from agentvault_registry.core.asyncutils import first_result
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.core.httpclient import SafeHttpClient
from agentvault_registry.core.httpclient.lifecycle import registry_user_agent
from agentvault_registry.core.ratelimit import LOCAL, RateLimit
from agentvault_registry.core.tasks import spawn
from agentvault_registry.plugins.discovery.remote import RemoteQuery
from agentvault_registry.plugins.federation import commands, factory, views
from agentvault_registry.plugins.federation.appkeys import (
    CLOSE_ON_SHUTDOWN,
    PEER_QUERIER,
    PEER_SERVICE,
)
from agentvault_registry.plugins.federation.credentials import (
    AUTH_FAILURES,
    peer_identity,
    presented_token,
)
from agentvault_registry.plugins.federation.fanout import PeerQuerier
from agentvault_registry.plugins.federation.health import HealthPolicy
from agentvault_registry.plugins.federation.schemas import FederationOptions
from agentvault_registry.plugins.federation.service import PeerService, utcnow
from agentvault_registry.plugins.federation.tokens import TokenCipher

REQUIRES = ("auth", "discovery")


@hookimpl
def register_config_schema() -> type[Schema]:
    return FederationOptions


@hookimpl
def register_routes(settings: Settings) -> list[web.RouteDef]:
    return views.routes()


@hookimpl
def register_rate_limits() -> list[RateLimit]:
    return [
        RateLimit("federation.query", "30/minute", "closed", "federated searches per peer"),
        RateLimit("federation.changes", "120/minute", "closed", "change feed pages per peer"),
        RateLimit(AUTH_FAILURES, "30/minute", LOCAL, "invalid federation tokens per client"),
    ]


@hookimpl
def register_commands(cli: click.Group) -> None:
    commands.add_commands(cli)


@hookimpl
def startup(app: web.Application) -> Any:
    # Config problems surface here, synchronously, before any plugin's startup work begins.
    settings = app[SETTINGS]
    cipher = factory.token_cipher(settings)
    health = factory.health_policy(settings)
    app[PEER_SERVICE] = PeerService(
        app[STORAGE].records, cipher, factory.url_policy(settings), health
    )
    return _open_peer_client(app, cipher, health)


async def _open_peer_client(
    app: web.Application, cipher: TokenCipher, health: HealthPolicy
) -> None:
    """Federation's own client (its own address policy, one session for every peer), open
    until shutdown, and the querier that uses it."""
    settings = app[SETTINGS]
    app[CLOSE_ON_SHUTDOWN] = stack = contextlib.AsyncExitStack()
    client = await stack.enter_async_context(
        SafeHttpClient(
            factory.outbound_settings(settings), user_agent=registry_user_agent(settings)
        )
    )
    app[PEER_QUERIER] = PeerQuerier(
        app[STORAGE].records,
        app[STORAGE].cache,
        client,
        cipher,
        factory.fanout_settings(settings),
        health,
        spawn=lambda work: spawn(app, work, name="federation.record_health"),
        clock=utcnow,
        peer_tls=lambda peer: first_result(
            app[PLUGIN_MANAGER].hook.peer_connection_tls(app=app, peer=peer)
        ),
        origins=factory.origin_signatures(settings, client, app[STORAGE].cache),
    )


@hookimpl
async def shutdown(app: web.Application) -> None:
    stack = app.get(CLOSE_ON_SHUTDOWN)
    if stack is not None:
        await stack.aclose()


@hookimpl
def identity_from_request(request: web.Request) -> Any:
    token = presented_token(request)
    return None if token is None else peer_identity(request, token)


@hookimpl
def discover_remote_agents(app: web.Application, query: RemoteQuery) -> Any:
    return app[PEER_QUERIER].discover(query)
