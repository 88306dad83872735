"""Operational endpoints every registry has, whatever plugins are loaded."""

from __future__ import annotations

import asyncio
import hmac
import html
import ipaddress
import logging
from pathlib import Path
from typing import Any

from aiohttp import web
from marshmallow import Schema, fields

from agentvault_registry.core.appkeys import (
    AGENT_COUNTER,
    CARD_SKILLS,
    INSTANCE_ID,
    OPENAPI_CACHE,
    PLUGIN_MANAGER,
    SETTINGS,
    STORAGE,
)
from agentvault_registry.core.asyncutils import await_me_maybe, first_result
from agentvault_registry.core.client_ip import client_ip
from agentvault_registry.core.errors import (
    AuthenticationRequired,
    Forbidden,
    InvalidCredentials,
    ServiceUnavailable,
)
from agentvault_registry.core.metrics import AgentCounter, render
from agentvault_registry.core.openapi import api_doc, build_openapi
from agentvault_registry.core.registry_card import build_registry_card
from agentvault_registry.core.requests import public_base_url

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
OPENAPI_PATH = "/api/v1/openapi.json"
#: A plugin's readiness check that takes longer than this counts as failed.
CHECK_TIMEOUT = 3.0
DOCS_PATH = "/api/docs"
#: Swagger UI needs its own stylesheet and inline styles; scripts only from this origin.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


class NotReady(ServiceUnavailable):
    code = "not_ready"
    default_message = "The registry is not ready."


class JwkSetSchema(Schema):
    keys = fields.List(
        fields.Dict(),
        required=True,
        metadata={"description": "Public keys (RFC 7517 JWKs), each with a unique kid."},
    )


class HealthSchema(Schema):
    status = fields.String(required=True)


class ReadySchema(Schema):
    status = fields.String(required=True)
    instance_id = fields.String(
        required=True, metadata={"description": "Shared by every process of this registry."}
    )
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


@api_doc("Liveness: the process is up", tags=["ops"], response=HealthSchema)
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@api_doc(
    "Readiness: every backend and plugin dependency answers",
    tags=["ops"],
    response=ReadySchema,
    description="503 names each dependency that failed, in details.checks.",
)
async def ready(request: web.Request) -> web.Response:
    app = request.app
    plugin_checks: dict[str, Any] = {}
    for registered in app[PLUGIN_MANAGER].hook.register_readiness_checks(app=app):
        plugin_checks.update(await await_me_maybe(registered) or {})
    backend_results, *plugin_results = await asyncio.gather(
        app[STORAGE].ping_all(), *(_run_check(name, check) for name, check in plugin_checks.items())
    )
    checks = {**backend_results, **dict(zip(plugin_checks, plugin_results, strict=True))}
    failed = {name: reason for name, reason in checks.items() if reason is not None}
    report = {name: reason or "ok" for name, reason in checks.items()}
    if failed:
        summary = "; ".join(f"{name}: {reason}" for name, reason in failed.items())
        raise NotReady(f"Not ready: {summary}", details={"checks": report})
    return web.json_response({"status": "ready", "instance_id": app[INSTANCE_ID], "checks": report})


async def _run_check(name: str, check: Any) -> str | None:
    """None when the check passes; a reason fit for unauthenticated callers otherwise."""
    try:
        await asyncio.wait_for(await_me_maybe(check), CHECK_TIMEOUT)
    except ServiceUnavailable as exc:
        # A backend, or a plugin saying why in words meant for clients.
        return exc.message
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT:g}s"
    except Exception as exc:  # a failing plugin check reports "not ready", never a 500
        # The exception text may name hosts or credentials: it goes to the log only.
        log.warning("readiness check %s failed", name, exc_info=exc)
        return f"failed ({type(exc).__name__})"
    return None


@api_doc("This OpenAPI 3.1 document", tags=["ops"])
async def openapi_document(request: web.Request) -> web.Response:
    cache = request.app[OPENAPI_CACHE]
    if "spec" not in cache:
        cache["spec"] = build_openapi(request.app, request.app[SETTINGS])
    return web.json_response(cache["spec"])


@api_doc("Interactive API documentation (Swagger UI)", tags=["ops"], content_type="text/html")
async def api_docs(request: web.Request) -> web.Response:
    title = html.escape(request.app[SETTINGS].registry.name)
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} · API</title>
<link rel="icon" href="{DOCS_PATH}/static/swagger/favicon-32x32.png">
<link rel="stylesheet" href="{DOCS_PATH}/static/swagger/swagger-ui.css">
</head>
<body data-spec-url="{OPENAPI_PATH}">
<div id="swagger-ui"></div>
<script src="{DOCS_PATH}/static/swagger/swagger-ui-bundle.js"></script>
<script src="{DOCS_PATH}/static/docs.js"></script>
</body>
</html>
"""
    response = web.Response(text=page, content_type="text/html")
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@api_doc(
    "This registry's own A2A Agent Card",
    tags=["ops"],
    description="Signed by the registry (A2A 8.4) when a plugin signs documents.",
)
async def agent_card(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    base_url = public_base_url(request)
    card = build_registry_card(settings, request.app[CARD_SKILLS], base_url)
    signature = await first_result(
        request.app[PLUGIN_MANAGER].hook.sign_document(
            app=request.app, document=card, signatures_member="signatures", base_url=base_url
        )
    )
    if signature is not None:
        card["signatures"] = [signature]
    response = web.json_response(card)
    # Without a configured public URL the card echoes the Host header: shared caches must
    # not keep one caller's version for others.
    response.headers["Cache-Control"] = (
        "public, max-age=300" if settings.server.public_url else "private, max-age=60"
    )
    return response


@api_doc(
    "The public keys this registry signs with",
    tags=["ops"],
    response=JwkSetSchema,
    description="A JWK Set: verify what the registry signed (assertions, documents) with it.",
)
async def jwks(request: web.Request) -> web.Response:
    app = request.app
    keys: dict[str, dict[str, Any]] = {}
    for published in app[PLUGIN_MANAGER].hook.register_public_keys(app=app):
        for key in await await_me_maybe(published) or ():
            # Two keys under one kid would make verifiers pick one at random.
            if key["kid"] in keys:
                log.warning("two plugins publish a public key with kid %r; kept one", key["kid"])
                continue
            keys[key["kid"]] = key
    response = web.json_response({"keys": list(keys.values())})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@api_doc(
    "Prometheus metrics (text exposition format)",
    tags=["ops"],
    content_type="text/plain",
    errors=(401, 403),
    description=(
        "Guarded by [metrics]: a bearer token (metrics.token) and/or peer networks "
        "(metrics.allow_networks); in production with neither, loopback only."
    ),
)
async def metrics(request: web.Request) -> web.Response:
    check_scraper(request)
    body, content_type = await render(request.app[STORAGE], request.app[AGENT_COUNTER])
    return web.Response(body=body, headers={"Content-Type": content_type})


def check_scraper(request: web.Request) -> None:
    """Refuse a scraper the ``[metrics]`` section does not let in: 403 outside the allowed
    networks, 401 without the token."""
    settings = request.app[SETTINGS]
    allowed = settings.metrics.allow_networks
    token = settings.metrics.token
    if not allowed and token is None and settings.production:
        # Unguarded metrics tell anyone the traffic, error rates and peer names: a production
        # registry shows them to its own host only until the operator says who may scrape.
        allowed = ("127.0.0.0/8", "::1/128")
    if allowed and not _in_networks(client_ip(request), allowed):
        raise Forbidden("Metrics are not served to this address.")
    if token is not None:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise AuthenticationRequired("The metrics endpoint needs its bearer token.")
        if not hmac.compare_digest(presented.encode(), token.reveal().encode()):
            raise InvalidCredentials("The metrics token is not valid.")


def _in_networks(address: str, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # "unknown": no peer address (a unix socket)
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)


def add_ops_routes(app: web.Application) -> None:
    app[OPENAPI_CACHE] = {}
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_get(OPENAPI_PATH, openapi_document)
    app.router.add_get(DOCS_PATH, api_docs)
    app.router.add_get("/.well-known/agent-card.json", agent_card)
    app.router.add_get("/.well-known/jwks.json", jwks)
    app.router.add_static(f"{DOCS_PATH}/static", STATIC_DIR)
    if app[SETTINGS].metrics.enabled:
        app[AGENT_COUNTER] = AgentCounter()
        app.router.add_get("/metrics", metrics)
