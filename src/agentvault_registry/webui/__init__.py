"""The web UI plugin: the single-page app for developers, clients and admins.

It serves one shell page (aiohttp-jinja2) for ``/``, every ``/ui/...`` path and the pages mailed
links open (``/verify-email``, ``/reset-password``); a history-API router in the browser maps
the path to a view. Everything the views show or change goes through the public REST API, as
any client would. Bootstrap, Bootstrap Icons and Chart.js are vendored (``package.json``,
``npm run vendor``), so the UI needs no CDN. Other plugins add pages and navigation entries
with the ``register_webui_views`` hook. Block it with ``plugins.disabled = ["webui"]`` to run
a headless, API-only registry. It takes no options.
"""

from __future__ import annotations

import aiohttp_jinja2
import jinja2
from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import PLUGIN_MANAGER, SETTINGS
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.webui import views
from agentvault_registry.webui.appkeys import WEBUI_VIEWS
from agentvault_registry.webui.assets import PREFIX, serve_asset
from agentvault_registry.webui.builtin_views import BUILTIN_VIEWS
from agentvault_registry.webui.extensions import collect_views


@hookimpl
def register_routes(settings: Settings) -> list[web.AbstractRouteDef]:
    return [
        web.get("/", views.shell),
        web.get("/ui", views.shell),
        web.get("/ui/{path:.*}", views.shell),
        web.get("/verify-email", views.shell),
        web.get("/reset-password", views.shell),
        web.get(PREFIX + "/{version}/{path:.+}", serve_asset),
    ]


@hookimpl
def register_webui_views(settings: Settings) -> list:
    return list(BUILTIN_VIEWS)


@hookimpl
def startup(app: web.Application) -> None:
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("agentvault_registry.webui", "templates"),
        autoescape=True,
    )
    contributions = app[PLUGIN_MANAGER].hook.register_webui_views(settings=app[SETTINGS])
    app[WEBUI_VIEWS] = collect_views(contributions)
