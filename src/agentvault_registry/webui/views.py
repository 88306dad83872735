"""The single-page app's shell: one page for every web UI path (thin handlers)."""

from __future__ import annotations

import json

import aiohttp_jinja2
from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import SETTINGS
from agentvault_registry.webui.appkeys import WEBUI_VIEWS
from agentvault_registry.webui.assets import asset_base
from agentvault_registry.webui.extensions import matching_view

#: Same-origin scripts, styles, fonts and API calls only: no inline code, no eval. Bootstrap's
#: own stylesheet draws some icons as data: images.
SHELL_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def shell_config(request: web.Request) -> str:
    """What the app needs to boot, as JSON safe inside a ``<script type=application/json>``."""
    settings: Settings = request.app[SETTINGS]
    views = request.app[WEBUI_VIEWS]
    base = asset_base()
    config = {
        "registry_name": settings.registry.name,
        "asset_base": base,
        "views": [view.as_config(f"{base}/js") for view in views],
    }
    return json.dumps(config).replace("<", "\\u003c")


async def shell(request: web.Request) -> web.Response:
    known = matching_view(request.app[WEBUI_VIEWS], request.path) is not None
    context = {
        "registry_name": request.app[SETTINGS].registry.name,
        "asset_base": asset_base(),
        "config_json": shell_config(request),
    }
    response = aiohttp_jinja2.render_template(
        "shell.html", request, context, status=200 if known else 404
    )
    response.headers["Content-Security-Policy"] = SHELL_CSP
    # Mailed links carry their token in the fragment; no shell is worth caching with one.
    response.headers["Cache-Control"] = "no-store"
    return response
