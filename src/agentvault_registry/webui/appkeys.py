"""State the web UI keeps in the app."""

from __future__ import annotations

from aiohttp import web

#: Each page's HTML by template name, read once at startup.
PAGES = web.AppKey("webui_pages", dict)
