"""The web UI plugin: the pages people use in a browser.

It serves the landing page at ``/`` that points developers to the API documentation, the
registry's agent card and its health endpoints. Block it with ``plugins.disabled = ["webui"]``
to run a headless API-only registry.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.hookspecs import hookimpl

LANDING_PAGE = (Path(__file__).parent / "templates" / "index.html").read_text(encoding="utf-8")
#: The landing page has no scripts; its one stylesheet is inline.
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


async def landing_page(request: web.Request) -> web.Response:
    response = web.Response(text=LANDING_PAGE, content_type="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


@hookimpl
def register_routes(settings: Settings) -> list[web.RouteDef]:
    return [web.get("/", landing_page)]
