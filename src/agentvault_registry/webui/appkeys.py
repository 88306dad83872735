"""State the web UI keeps in the app."""

from __future__ import annotations

from aiohttp import web

#: The landing page's HTML, read once at startup.
LANDING_PAGE = web.AppKey("webui_landing_page", str)
