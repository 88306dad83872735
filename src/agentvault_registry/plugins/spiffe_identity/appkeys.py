"""State the spiffe_identity plugin keeps in the app."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.plugins.spiffe_identity.jwt_auth import JwtSvidPolicy
from agentvault_registry.plugins.spiffe_identity.service import IdentityService
from agentvault_registry.plugins.spiffe_identity.tls import RotatingServerContext

IDENTITY_SERVICE = web.AppKey("spiffe_identity.service", IdentityService)
JWT_SVID_POLICY = web.AppKey("spiffe_identity.jwt_svid_policy", JwtSvidPolicy)
#: The listening socket's context, made when the server asks for one (before startup).
SERVER_TLS = web.AppKey("spiffe_identity.server_tls", RotatingServerContext)
