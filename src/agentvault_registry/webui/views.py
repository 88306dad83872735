"""The web UI's pages (thin handlers)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from agentvault_registry.webui.appkeys import LANDING_PAGE

TEMPLATES = Path(__file__).parent / "templates"
#: The landing page has no scripts; its one stylesheet is inline.
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def read_landing_page() -> str:
    return (TEMPLATES / "index.html").read_text(encoding="utf-8")


async def landing_page(request: web.Request) -> web.Response:
    response = web.Response(text=request.app[LANDING_PAGE], content_type="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response
