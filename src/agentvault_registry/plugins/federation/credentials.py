"""Turning a peer's inbound token into an Identity of kind ``peer``."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.core.appkeys import PLUGIN_MANAGER, RATE_LIMITER
from agentvault_registry.core.asyncutils import await_me_maybe
from agentvault_registry.core.client_ip import client_ip
from agentvault_registry.core.errors import InvalidCredentials
from agentvault_registry.core.identity import Identity
from agentvault_registry.plugins.federation.appkeys import PEER_SERVICE
from agentvault_registry.plugins.federation.tokens import PEER, looks_like_inbound_token

PLUGIN = "federation"
#: Invalid inbound tokens per client IP: counted before any limit per peer could apply (a
#: caller with a bad token is no peer), and only on failure, so peers never trip it.
AUTH_FAILURES = "federation.auth_failures"


def presented_token(request: web.Request) -> str | None:
    """The inbound token a request carries as its bearer credential, or None when its
    credential (if any) is some other plugin's."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    token = value.strip()
    if scheme.lower() != "bearer" or not looks_like_inbound_token(token):
        return None
    return token


async def peer_identity(request: web.Request, token: str) -> Identity:
    """The calling peer; 401 for an unknown token, a disabled peer or a connection another
    plugin finds is not the peer's (``verify_peer_request``), 429 once a client has presented
    too many of those."""
    limiter = request.app[RATE_LIMITER]
    scope = f"ip:{client_ip(request)}"
    standing = await limiter.peek(AUTH_FAILURES, scope)
    if not standing.allowed:
        raise standing.error()
    try:
        peer = await request.app[PEER_SERVICE].authenticate(token)
        for verdict in request.app[PLUGIN_MANAGER].hook.verify_peer_request(
            request=request, peer=peer
        ):
            await await_me_maybe(verdict)
    except InvalidCredentials:
        await limiter.hit(AUTH_FAILURES, scope)
        raise
    # No roles and no scopes: a peer reaches the federation endpoints and nothing else.
    return Identity(kind=PEER, subject=peer.id, plugin=PLUGIN, claims={"name": peer.name})
