"""The web UI's pages (thin handlers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from agentvault_registry.webui.appkeys import PAGES

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
PAGE_NAMES = ("index", "verify_email", "reset_password")
#: Scripts and styles only from this origin; API calls only to it.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def read_pages() -> dict[str, str]:
    return {name: (TEMPLATES / f"{name}.html").read_text(encoding="utf-8") for name in PAGE_NAMES}


def page(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def view(request: web.Request) -> web.Response:
        response = web.Response(text=request.app[PAGES][name], content_type="text/html")
        response.headers["Content-Security-Policy"] = PAGE_CSP
        # The links carry their token in the fragment; no page is worth caching with it.
        response.headers["Cache-Control"] = "no-store"
        return response

    view.__name__ = f"{name}_page"
    return view
