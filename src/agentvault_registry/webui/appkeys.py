"""State the web UI keeps in the app."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.webui.extensions import WebUIView

#: Every plugin's pages, collected once at startup.
WEBUI_VIEWS = web.AppKey("webui_views", list[WebUIView])
