"""Turning the credentials a request carries into an Identity: access tokens and API keys."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.core.errors import InvalidCredentials
from agentvault_registry.core.identity import AGENT, Identity
from agentvault_registry.plugins.auth.api_keys import looks_like_api_key
from agentvault_registry.plugins.auth.appkeys import API_KEY_SERVICE, AUTH_SERVICE
from agentvault_registry.plugins.auth.scopes import AGENT_KEY_SCOPES, scopes_for
from agentvault_registry.plugins.auth.tokens import ACCESS

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


async def identify(app: web.Application, credential: str) -> Identity | None:
    """The caller's identity; None when the credential is not one of ours."""
    if looks_like_api_key(credential):
        return await _identify_api_key(app, credential)
    if not app[AUTH_SERVICE].codec.recognises(credential):
        return None
    return await _identify_access_token(app, credential)


async def _identify_api_key(app: web.Application, key: str) -> Identity:
    record, user = await app[API_KEY_SERVICE].authenticate(key)
    if record.agent_id is not None:
        return Identity(
            kind=AGENT,
            subject=record.agent_id,
            plugin=PLUGIN,
            scopes=frozenset(record.scopes) & AGENT_KEY_SCOPES,
            claims={"key_id": record.id, "developer_id": user.id},
        )
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
    if not isinstance(claims.get("sid"), str):
        raise InvalidCredentials("The token is not valid.")
    # The session, the account and its role as they are now, not as the token remembers.
    user_id, role = await service.session_user(claims)
    return Identity(
        kind="user",
        subject=user_id,
        plugin=PLUGIN,
        roles=frozenset({role}),
        scopes=scopes_for(role),
        claims=claims,
    )
