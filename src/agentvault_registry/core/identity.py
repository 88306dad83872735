"""Who is calling: the core asks every plugin's ``identity_from_request`` in turn."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from agentvault_registry.core.activity import count_api_request
from agentvault_registry.core.appkeys import IDENTITY, PLUGIN_MANAGER
from agentvault_registry.core.asyncutils import first_result
from agentvault_registry.core.errors import AuthenticationRequired, Forbidden

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: The kind of identity of an agent acting for itself with its own key (``subject`` is the
#: agent's id): it may touch that agent and nothing else of its developer's.
AGENT = "agent"


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
    if identity is not None:
        count_api_request(request.app, identity)
    return identity


@dataclass(frozen=True)
class Requirement:
    """What a view needs from its caller; also read by the OpenAPI generator."""

    role: str | None = None
    #: A scope the caller must hold, or a tuple of scopes any one of which will do.
    scope: str | tuple[str, ...] | None = None
    #: Only these kinds of identity may call (``("user",)``: a logged-in session, not a key).
    kinds: tuple[str, ...] | None = None


async def require_identity(
    request: web.Request, requirement: Requirement = Requirement()
) -> Identity:
    """The caller's identity; 401 when anonymous, 403 when it falls short of ``requirement``."""
    identity = await resolve_identity(request)
    if identity is None:
        raise AuthenticationRequired()
    if requirement.kinds is not None and identity.kind not in requirement.kinds:
        raise Forbidden(f"Only {' or '.join(requirement.kinds)} credentials may call this.")
    if requirement.role is not None and not identity.has_role(requirement.role):
        raise Forbidden(f"This needs the {requirement.role!r} role.")
    if requirement.scope is not None:
        accepted = (requirement.scope,) if isinstance(requirement.scope, str) else requirement.scope
        if identity.scopes.isdisjoint(accepted):
            raise Forbidden(f"This needs the {' or '.join(map(repr, accepted))} scope.")
    return identity


def requires(
    *,
    role: str | None = None,
    scope: str | tuple[str, ...] | None = None,
    kinds: tuple[str, ...] | None = None,
) -> Callable[[Handler], Handler]:
    """Declare that a view needs an authenticated caller, optionally with a role, a scope
    (or one of several) or a kind of credential.

    The one way views state their access rules: the check runs before the view, and the
    OpenAPI document shows the requirement.
    """
    requirement = Requirement(role, scope, kinds)

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            await require_identity(request, requirement)
            return await handler(request)

        guarded.__requires__ = requirement  # type: ignore[attr-defined]
        return guarded

    return decorate


def current_identity(request: web.Request) -> Identity:
    """The identity a ``@requires`` view was admitted with."""
    identity = request.get(IDENTITY)
    if identity is None:
        raise AuthenticationRequired()
    return identity


def requirement_of(handler: Any) -> Requirement | None:
    return getattr(handler, "__requires__", None)
