"""The app factory: synchronous and free of I/O; every resource opens in a cleanup context."""

from __future__ import annotations

import pluggy
from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import CARD_SKILLS, PLUGIN_MANAGER, SETTINGS
from agentvault_registry.core.lifecycle import plugins_context, storage_context
from agentvault_registry.core.middlewares import core_middlewares
from agentvault_registry.core.ops import add_ops_routes
from agentvault_registry.core.registry_card import collect_card_skills


def create_app(settings: Settings, pm: pluggy.PluginManager) -> web.Application:
    # aiohttp enforces client_max_size itself when a body is read; read_json also refuses an
    # oversized Content-Length before reading anything.
    app = web.Application(
        middlewares=core_middlewares(), client_max_size=settings.server.max_body_size
    )
    app[SETTINGS] = settings
    app[PLUGIN_MANAGER] = pm
    app[CARD_SKILLS] = collect_card_skills(settings, pm)
    add_ops_routes(app)
    for routes in pm.hook.register_routes(settings=settings):
        app.router.add_routes(routes or ())
    app.cleanup_ctx.append(storage_context)
    app.cleanup_ctx.append(plugins_context)
    return app
