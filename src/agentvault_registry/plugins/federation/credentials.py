"""Turning a peer's inbound token into an Identity of kind ``peer``."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.core.identity import Identity
from agentvault_registry.plugins.federation.service import PeerService
from agentvault_registry.plugins.federation.tokens import PEER, looks_like_inbound_token

PLUGIN = "federation"


def presented_token(request: web.Request) -> str | None:
    """The inbound token a request carries as its bearer credential, or None when its
    credential (if any) is some other plugin's."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    token = value.strip()
    if scheme.lower() != "bearer" or not looks_like_inbound_token(token):
        return None
    return token


async def peer_identity(service: PeerService, token: str) -> Identity:
    """The calling peer; 401 for an unknown token or a disabled peer."""
    peer = await service.authenticate(token)
    # No roles and no scopes: a peer reaches the federation endpoints and nothing else.
    return Identity(kind=PEER, subject=peer.id, plugin=PLUGIN, claims={"name": peer.name})
