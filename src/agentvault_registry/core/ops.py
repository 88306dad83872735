"""Operational endpoints every registry has, whatever plugins are loaded."""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

from aiohttp import web
from marshmallow import Schema, fields

from agentvault_registry.core.appkeys import (
    INSTANCE_ID,
    OPENAPI_CACHE,
    PLUGIN_MANAGER,
    SETTINGS,
    STORAGE,
)
from agentvault_registry.core.asyncutils import await_me_maybe
from agentvault_registry.core.errors import BackendError, ServiceUnavailable
from agentvault_registry.core.openapi import api_doc, build_openapi
from agentvault_registry.core.registry_card import build_registry_card

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
OPENAPI_PATH = "/api/v1/openapi.json"
DOCS_PATH = "/api/docs"
#: Swagger UI needs its own stylesheet and inline styles; scripts only from this origin.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


class NotReady(ServiceUnavailable):
    code = "not_ready"
    default_message = "The registry is not ready."


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
    checks = await request.app[STORAGE].ping_all()
    pm = request.app[PLUGIN_MANAGER]
    for extra in pm.hook.readiness_checks(app=request.app):
        for name, check in (extra or {}).items():
            checks[name] = await _run_check(name, check)
    failed = {name: reason for name, reason in checks.items() if reason is not None}
    report = {name: reason or "ok" for name, reason in checks.items()}
    if failed:
        summary = "; ".join(f"{name}: {reason}" for name, reason in failed.items())
        raise NotReady(f"Not ready: {summary}", details={"checks": report})
    return web.json_response(
        {"status": "ready", "instance_id": request.app[INSTANCE_ID], "checks": report}
    )


async def _run_check(name: str, check: Any) -> str | None:
    try:
        await await_me_maybe(check)
    except BackendError as exc:
        return exc.message
    except Exception as exc:  # a failing plugin check reports "not ready", never a 500
        log.warning("readiness check %s failed: %r", name, exc)
        return f"{type(exc).__name__}: {exc}"
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


@api_doc("This registry's own A2A Agent Card", tags=["ops"])
async def agent_card(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    base_url = settings.server.public_url or f"{request.scheme}://{request.host}"
    card = build_registry_card(settings, request.app[PLUGIN_MANAGER], base_url.rstrip("/"))
    response = web.json_response(card)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def add_ops_routes(app: web.Application) -> None:
    app[OPENAPI_CACHE] = {}
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_get(OPENAPI_PATH, openapi_document)
    app.router.add_get(DOCS_PATH, api_docs)
    app.router.add_get("/.well-known/agent-card.json", agent_card)
    app.router.add_static(f"{DOCS_PATH}/static", STATIC_DIR)
