"""Who is calling: the core asks every plugin's ``identity_from_request`` in turn."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from agentvault_registry.core.appkeys import IDENTITY, PLUGIN_MANAGER
from agentvault_registry.core.asyncutils import first_result
from agentvault_registry.core.errors import AuthenticationRequired, Forbidden


@dataclass(frozen=True)
class Identity:
    """An authenticated caller.

    ``kind`` says what proved it (``user``, ``api_key``, ``agent``, ``peer``, ...); ``subject``
    is the stable id of the caller of that kind; ``plugin`` is the plugin that vouched for it.
    """

    kind: str
    subject: str
    plugin: str
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    claims: Mapping[str, Any] = field(default_factory=dict)

    def has_role(self, role: str) -> bool:
        return role in self.roles


async def resolve_identity(request: web.Request) -> Identity | None:
    """The caller's identity, asked once per request and remembered.

    Raises ``InvalidCredentials`` when a plugin recognises the credentials as its own and
    finds them invalid: bad credentials are never silently treated as anonymous.
    """
    if IDENTITY in request:
        return request[IDENTITY]
    pm = request.app[PLUGIN_MANAGER]
    identity = await first_result(pm.hook.identity_from_request(request=request))
    if identity is not None and not isinstance(identity, Identity):
        raise TypeError(f"identity_from_request returned {type(identity).__name__}, not Identity")
    request[IDENTITY] = identity
    return identity


async def require_identity(request: web.Request, *, role: str | None = None) -> Identity:
    """The caller's identity; 401 when anonymous, 403 when it lacks ``role``."""
    identity = await resolve_identity(request)
    if identity is None:
        raise AuthenticationRequired()
    if role is not None and not identity.has_role(role):
        raise Forbidden(f"This needs the {role!r} role.")
    return identity
