"""``@rate_limit(name)``: the one way a view is rate limited."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aiohttp import web

from agentvault_registry.core.appkeys import RATE_LIMITER
from agentvault_registry.core.client_ip import client_ip
from agentvault_registry.core.errors import PluginError, RegistryError
from agentvault_registry.core.identity import Identity, requirement_of, resolve_identity
from agentvault_registry.core.middlewares import Handler

#: Identity kinds whose subject is a user account: a session and the account's API keys.
ACCOUNT_KINDS = ("user", "api_key")
#: The attribute that marks a limited handler (OpenAPI documents its 429).
_MARKER = "__rate_limit__"
_PER_IP_MARKER = "__rate_limit_per_ip__"


def rate_limit(name: str, *, per_ip: bool = True) -> Callable[[Handler], Handler]:
    """Limit a view by the declared limit ``name``, per client IP and per caller.

    Every request counts against its client IP, unless ``per_ip`` is False (for views behind
    ``@requires``, limited per caller only: developers behind one NAT do not share). When the
    request carries valid credentials, it also counts against the caller (see
    :func:`caller_scope`); all counters must allow it. A denied request gets 429 with
    ``Retry-After`` and ``X-RateLimit-*`` headers; an answered one carries the
    ``X-RateLimit-*`` headers of the tightest counter.
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def limited(request: web.Request) -> web.StreamResponse:
            limiter = request.app[RATE_LIMITER]
            results = []
            if per_ip:
                # The IP counts first: requests with bad credentials (401 from identity
                # resolution) are then limited too.
                results.append(await limiter.check(name, f"ip:{client_ip(request)}"))
            identity = await resolve_identity(request)
            if identity is not None:
                results.append(await limiter.check(name, caller_scope(identity)))
            headers = min(results, key=lambda result: result.remaining).headers()
            try:
                response = await handler(request)
            except RegistryError as error:
                for header, value in headers.items():
                    error.headers.setdefault(header, value)
                raise
            if not response.prepared:
                response.headers.update(headers)
            return response

        setattr(limited, _MARKER, name)
        setattr(limited, _PER_IP_MARKER, per_ip)
        return limited

    return decorate


def caller_scope(identity: Identity) -> str:
    """The counter of a caller: one per account, whether it calls with a session or one of
    its API keys (two credentials must not double an allowance); otherwise per kind."""
    if identity.kind in ACCOUNT_KINDS:
        return f"account:{identity.subject}"
    return f"{identity.kind}:{identity.subject}"


def rate_limit_name(handler: Any) -> str | None:
    """The limit a handler is decorated with, if any."""
    return getattr(handler, _MARKER, None)


def check_route_limits(app: web.Application) -> None:
    """Stop startup when a route is limited by a name no loaded plugin declares, or per
    caller only without requiring a caller."""
    limiter = app[RATE_LIMITER]
    undeclared = sorted(
        {
            f"{route.method} {route.resource.canonical if route.resource else '?'}: {name!r}"
            for route in app.router.routes()
            # web.get() adds a HEAD twin of each route: one line per route is enough.
            if route.method != "HEAD"
            and (name := rate_limit_name(route.handler)) is not None
            and name not in limiter
        }
    )
    if undeclared:
        raise PluginError(
            [f"route {where} uses a rate limit no loaded plugin declares" for where in undeclared]
        )
    # Without a counter per IP, an anonymous request would count nowhere.
    unguarded = sorted(
        f"{route.method} {route.resource.canonical if route.resource else '?'}"
        for route in app.router.routes()
        if route.method != "HEAD"
        and getattr(route.handler, _PER_IP_MARKER, True) is False
        and requirement_of(route.handler) is None
    )
    if unguarded:
        raise PluginError(
            [
                f"route {where} is limited per caller only but not behind @requires"
                for where in unguarded
            ]
        )
