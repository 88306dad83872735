"""The web UI plugin: the pages people use in a browser.

It serves the landing page at ``/``, which points developers to the API documentation, the
registry's agent card and its health endpoints, and the pages mailed links open:
``/verify-email`` and ``/reset-password`` (the token rides in the URL fragment and is posted to
the API by the page). Block it with ``plugins.disabled = ["webui"]`` to run a headless
API-only registry. It takes no options.
"""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.webui import views
from agentvault_registry.webui.appkeys import PAGES


@hookimpl
def register_routes(settings: Settings) -> list[web.AbstractRouteDef]:
    return [
        web.get("/", views.page("index")),
        web.get("/verify-email", views.page("verify_email")),
        web.get("/reset-password", views.page("reset_password")),
        web.static("/static/webui", views.STATIC),
    ]


@hookimpl
def startup(app: web.Application) -> None:
    app[PAGES] = views.read_pages()
