"""The app factory: synchronous and free of I/O; every resource opens in a cleanup context."""

from __future__ import annotations

import ssl
from typing import Any

import pluggy
from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import (
    BACKGROUND_TASKS,
    CARD_SKILLS,
    PERIODIC_TASKS,
    PLUGIN_MANAGER,
    RATE_LIMITER,
    SETTINGS,
    STORAGE,
)
from agentvault_registry.core.httpclient import http_client_context
from agentvault_registry.core.lifecycle import (
    freeze_startup_objects,
    plugins_context,
    plugins_stopping,
    storage_context,
)
from agentvault_registry.core.logs import configure_logging
from agentvault_registry.core.middlewares import core_middlewares
from agentvault_registry.core.ops import add_ops_routes
from agentvault_registry.core.periodic import collect_periodic_tasks, periodic_tasks_context
from agentvault_registry.core.ratelimit import (
    RateLimiter,
    check_route_limits,
    declared_rate_limits,
)
from agentvault_registry.core.registry_card import collect_card_skills
from agentvault_registry.core.tasks import background_tasks_context
from agentvault_registry.core.tracing import tracing_context


def create_app(
    settings: Settings, pm: pluggy.PluginManager, *, tracer_provider: Any = None
) -> web.Application:
    """The registry's app; with ``[tracing] enabled``, spans go to ``tracer_provider`` when
    given, else to one built from config (see :mod:`.tracing`)."""
    # aiohttp enforces client_max_size itself when a body is read; read_json also refuses an
    # oversized Content-Length before reading anything.
    app = web.Application(
        middlewares=core_middlewares(), client_max_size=settings.server.max_body_size
    )
    app[SETTINGS] = settings
    app[PLUGIN_MANAGER] = pm
    app[CARD_SKILLS] = collect_card_skills(settings, pm)
    app[BACKGROUND_TASKS] = set()
    app[PERIODIC_TASKS] = collect_periodic_tasks(settings, pm)
    # The cache opens with the app; the limiter asks for it on each hit.
    app[RATE_LIMITER] = RateLimiter(
        declared_rate_limits(pm).values(), settings.rate_limits, cache=lambda: app[STORAGE].cache
    )
    add_ops_routes(app)
    for routes in pm.hook.register_routes(settings=settings):
        app.router.add_routes(routes or ())
    check_route_limits(app)
    # First in: plugins can fetch during startup, and it closes last, after background work.
    if settings.tracing.enabled:
        app.cleanup_ctx.append(tracing_context(tracer_provider))
    app.cleanup_ctx.append(http_client_context)
    app.cleanup_ctx.append(storage_context)
    app.cleanup_ctx.append(plugins_context)
    # Scheduled work starts once plugins are up and stops before they shut down.
    app.cleanup_ctx.append(periodic_tasks_context)
    # Last in, so it drains first on shutdown, while storage and plugins are still up.
    app.cleanup_ctx.append(background_tasks_context)
    app.on_shutdown.append(plugins_stopping)
    return app


def serving_app(settings: Settings, pm: pluggy.PluginManager) -> web.Application:
    """The app as a server process runs it (``serve`` or a gunicorn worker): logging set up
    from the settings, and startup objects frozen once the app is up."""
    configure_logging(
        settings.logging.level, settings.logging.format, levels=settings.logging.levels
    )
    app = create_app(settings, pm)
    # After every cleanup context has started: on_startup handlers run after them.
    app.on_startup.append(freeze_startup_objects)
    return app


def server_ssl_context(app: web.Application) -> ssl.SSLContext | None:
    """What the listening socket serves TLS with: the first plugin's context, or None for
    plain HTTP. Asked before the app starts, since the socket is made before startup runs."""
    for context in app[PLUGIN_MANAGER].hook.server_ssl_context(app=app):
        if context is not None:
            return context
    return None
