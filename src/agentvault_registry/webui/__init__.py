"""The web UI plugin: the pages people use in a browser.

It serves the landing page at ``/`` that points developers to the API documentation, the
registry's agent card and its health endpoints. Block it with ``plugins.disabled = ["webui"]``
to run a headless API-only registry. It takes no options.
"""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.webui import views
from agentvault_registry.webui.appkeys import LANDING_PAGE


@hookimpl
def register_routes(settings: Settings) -> list[web.RouteDef]:
    return [web.get("/", views.landing_page)]


@hookimpl
def startup(app: web.Application) -> None:
    app[LANDING_PAGE] = views.read_landing_page()
