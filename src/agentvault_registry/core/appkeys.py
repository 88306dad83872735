"""Every piece of app and request state, under a typed key. No string keys anywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy
from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.storage_backends.storage import Storage

if TYPE_CHECKING:
    from agentvault_registry.core.activity import UsageCounter
    from agentvault_registry.core.httpclient import SafeHttpClient
    from agentvault_registry.core.periodic import PeriodicTask
    from agentvault_registry.core.ratelimit import RateLimiter

SETTINGS = web.AppKey("settings", Settings)
PLUGIN_MANAGER = web.AppKey("plugin_manager", pluggy.PluginManager)
STORAGE = web.AppKey("storage", Storage)
#: This registry's stable id, shared by all its processes (kept in the records backend).
INSTANCE_ID = web.AppKey("instance_id", str)
#: The secret that signs tokens: from config, or generated once per data dir in dev mode.
JWT_SECRET = web.AppKey("jwt_secret", str)
#: The skills on the registry's own agent card, collected from plugins when the app is built.
CARD_SKILLS = web.AppKey("card_skills", list)
#: Tasks started by requests and not awaited by them (see core.tasks).
BACKGROUND_TASKS = web.AppKey("background_tasks", set)
#: This process's usage counts not yet flushed; set by the ``activity`` plugin.
USAGE_COUNTER: web.AppKey[UsageCounter] = web.AppKey("usage_counter")
#: Work repeated on a schedule (:mod:`.periodic`), collected from plugins with the app.
PERIODIC_TASKS: web.AppKey[list[PeriodicTask]] = web.AppKey("periodic_tasks")
#: The OpenAPI document, built on first request (routes are fixed once the app starts).
OPENAPI_CACHE = web.AppKey("openapi_cache", dict)
#: The shared rate limiter (:mod:`agentvault_registry.core.ratelimit`), built with the app.
RATE_LIMITER: web.AppKey[RateLimiter] = web.AppKey("rate_limiter")
#: The SSRF-safe client for every fetch of a user-supplied URL (:mod:`.httpclient`).
HTTP_CLIENT: web.AppKey[SafeHttpClient] = web.AppKey("http_client")

REQUEST_ID = web.RequestKey("request_id", str)
IDENTITY = web.RequestKey("identity", "Identity | None")
