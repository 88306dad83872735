"""The TEG bridge: agents get access tokens of the TEG economic layer from the registry,
which vouches for them.

``POST /api/v1/teg/token`` (an agent's own credentials) proves the agent's identity to the
TEG's OAuth token endpoint with an assertion (RFC 7523 JWT-bearer grant): a workload identity
from a plugin answering ``agent_assertion`` (a SPIFFE JWT-SVID) when one does, else a JWT the
registry signs, whose keys it publishes at ``/.well-known/jwks.json``. Tokens are cached per
agent and scope until ``refresh_margin`` before they expire. Other plugins get a token with
``await first_result(pm.hook.agent_teg_token(app=app, agent=agent, scope=None))``. Without a
``token_url`` the null bridge answers 501.

Config example::

    [plugins.teg_bridge]
    token_url = "https://teg.example.org/oauth/token"   # unset: the null bridge (501)
    scope = "agent:economics agent:reputation"  # what agents may ask for; all by default
    assertion_ttl = 60           # seconds the registry's assertions live (at most 300)
    refresh_margin = 30          # a cached token is renewed this long before it expires
    timeout = 5.0                # seconds the TEG has to answer
    client_id = "agentvault-registry"              # HTTP Basic at the token endpoint,
    client_secret = { env = "AVREG_TEG_CLIENT_SECRET" }  # when the TEG wants it
    signing_key = { file = "/run/secrets/teg-signing-key.pem" }  # Ed25519 or P-256 PEM;
                                 # required in production, generated once in development
    previous_signing_keys = []   # retired keys (PEM), still published in the JWK Set
    issuer = "https://registry.example.org"        # default: server.public_url
    allow_http = false           # an http:// token_url (https only otherwise)
    allow_private = false        # a token_url at a loopback or private address

    [rate_limits]
    "teg.token" = "30/minute"    # token requests per agent
"""

from __future__ import annotations

import contextlib
from typing import Any

from aiohttp import web
from marshmallow import Schema

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import SETTINGS, STORAGE
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.core.httpclient import SafeHttpClient
from agentvault_registry.core.ratelimit import CLOSED, RateLimit
from agentvault_registry.core.signing_keys import KeyRing
from agentvault_registry.plugins.teg_bridge import factory, views
from agentvault_registry.plugins.teg_bridge.appkeys import CLOSE_ON_SHUTDOWN, KEY_RING, TEG_SERVICE
from agentvault_registry.plugins.teg_bridge.bridge import NullBridge, OAuthBridge, TegBridge
from agentvault_registry.plugins.teg_bridge.schemas import TegBridgeOptions
from agentvault_registry.plugins.teg_bridge.service import TegTokenService
from agentvault_registry.storage_backends.agents import AgentRecord

REQUIRES = ("agents",)


@hookimpl
def register_config_schema() -> type[Schema]:
    return TegBridgeOptions


@hookimpl
def register_routes(settings: Settings) -> list[web.RouteDef]:
    return views.routes()


@hookimpl
def register_rate_limits() -> list[RateLimit]:
    # Closed while the cache is down: a token is a credential, like a login.
    return [RateLimit(views.TOKEN_LIMIT, "30/minute", CLOSED, "TEG token requests per agent")]


# First: a config problem then stops startup before another plugin's startup has handed
# the core a coroutine that would never be awaited.
@hookimpl(tryfirst=True)
def startup(app: web.Application) -> Any:
    settings = app[SETTINGS]
    token_url = factory.token_url(settings)
    retired = factory.retired_public_keys(settings)
    bridge: TegBridge
    if token_url is None:
        app[KEY_RING] = KeyRing(factory.configured_signing_key(settings), retired)
        bridge = NullBridge()
    else:
        current = factory.assertion_signing_key(settings)
        app[KEY_RING] = KeyRing(current, retired)
        bridge = factory.oauth_bridge(app, token_url, current)
    app[TEG_SERVICE] = TegTokenService(bridge, app[STORAGE].cache, factory.token_settings(settings))
    return _open_client(app, bridge.client) if isinstance(bridge, OAuthBridge) else None


async def _open_client(app: web.Application, client: SafeHttpClient) -> None:
    """The bridge's own client (its own address policy, one session), open until shutdown."""
    app[CLOSE_ON_SHUTDOWN] = stack = contextlib.AsyncExitStack()
    await stack.enter_async_context(client)


@hookimpl
async def shutdown(app: web.Application) -> None:
    service = app.get(TEG_SERVICE)
    if service is not None:
        await service.close()
    stack = app.get(CLOSE_ON_SHUTDOWN)
    if stack is not None:
        await stack.aclose()


@hookimpl
def register_public_keys(app: web.Application) -> list[dict[str, Any]]:
    keys = app.get(KEY_RING)
    return [] if keys is None else keys.public_jwks()


@hookimpl
def agent_teg_token(app: web.Application, agent: AgentRecord, scope: str | None) -> Any:
    service = app[TEG_SERVICE]
    return service.token(agent, scope) if service.configured else None
