"""Turning the credentials a request carries into an Identity: access tokens and API keys."""

from __future__ import annotations

import logging

from aiohttp import web

from agentvault_registry.core.errors import BackendError, InvalidCredentials
from agentvault_registry.core.identity import Identity
from agentvault_registry.plugins.auth.api_keys import looks_like_api_key
from agentvault_registry.plugins.auth.appkeys import API_KEY_SERVICE, AUTH_SERVICE
from agentvault_registry.plugins.auth.scopes import scopes_for
from agentvault_registry.plugins.auth.tokens import ACCESS

log = logging.getLogger(__name__)

PLUGIN = "auth"
API_KEY_HEADER = "X-API-Key"


def presented_credential(request: web.Request) -> str | None:
    """The API key or bearer token the request carries, or None when it carries neither."""
    api_key = request.headers.get(API_KEY_HEADER)
    if api_key is not None:
        if not looks_like_api_key(api_key.strip()):
            raise InvalidCredentials(f"{API_KEY_HEADER} does not hold an API key.")
        return api_key.strip()
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    if not value.strip():
        raise InvalidCredentials("The bearer credential is empty.")
    return value.strip()


async def identify(app: web.Application, credential: str) -> Identity:
    if looks_like_api_key(credential):
        return await _identify_api_key(app, credential)
    return await _identify_access_token(app, credential)


async def _identify_api_key(app: web.Application, key: str) -> Identity:
    record, user = await app[API_KEY_SERVICE].authenticate(key)
    return Identity(
        kind="api_key",
        subject=user.id,
        plugin=PLUGIN,
        roles=frozenset({user.role}),
        # A key never carries more than its owner's role allows today.
        scopes=frozenset(record.scopes) & scopes_for(user.role),
        claims={"key_id": record.id, "email": user.email},
    )


async def _identify_access_token(app: web.Application, token: str) -> Identity:
    service = app[AUTH_SERVICE]
    claims = service.codec.decode(token, ACCESS)
    for claim in ("sid", "role"):
        if not isinstance(claims.get(claim), str):
            raise InvalidCredentials("The token is not valid.")
    try:
        revoked = await service.access_token_revoked(claims)
    except BackendError:
        # Without the cache, the records backend still knows every ended session (logout
        # and password changes revoke the family there too).
        log.warning("cache unavailable; checking the session in the records backend")
        revoked = await service.records.refresh_family_revoked(claims["sid"])
    if revoked:
        raise InvalidCredentials("This token has been revoked.")
    return Identity(
        kind="user",
        subject=claims["sub"],
        plugin=PLUGIN,
        roles=frozenset({claims["role"]}),
        scopes=scopes_for(claims["role"]),
        claims=claims,
    )
