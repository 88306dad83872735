"""The discovery plugin: how clients find agents — ranked full-text search, filters on
capabilities, types, tags, pricing and the A2A features of each agent's card, facet counts,
and starter templates for registering new agents.

Searches run on the records backend's search index (see
:mod:`agentvault_registry.storage_backends.discovery`) and are cached in the cache backend.
With ``include_federated=true`` the federation plugin contributes remote agents through the
``discover_remote_agents`` hook. Config example::

    [plugins.discovery]
    cache_ttl = 30              # seconds an identical search is answered from the cache; 0: off
    count_limit = 1000          # totals are exact up to this many matches
    rank_limit = 1000           # relevance ranks at most this many candidates
    facet_sample_limit = 2000   # facets of a filtered search count this many matches at most

    [rate_limits]
    "discovery.search" = "100/minute"
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from marshmallow import Schema

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import PLUGIN_MANAGER, SETTINGS, STORAGE
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.core.ratelimit import LOCAL, RateLimit
from agentvault_registry.plugins.discovery import views
from agentvault_registry.plugins.discovery.appkeys import DISCOVERY_SERVICE, TEMPLATES
from agentvault_registry.plugins.discovery.remote import RemoteQuery, RemoteResults
from agentvault_registry.plugins.discovery.schemas import DiscoveryOptionsSchema
from agentvault_registry.plugins.discovery.service import (
    DiscoveryOptions,
    DiscoveryService,
    ask_plugins,
)
from agentvault_registry.plugins.discovery.templates import builtin_templates, checked_templates

REQUIRES = ("agents",)
NAME = "discovery"


@hookimpl
def register_config_schema() -> type[Schema]:
    return DiscoveryOptionsSchema


@hookimpl
def register_routes(settings: Settings) -> list[web.RouteDef]:
    return views.routes()


@hookimpl
def register_rate_limits() -> list[RateLimit]:
    # Searches are reads: while the cache backend is down each process limits on its own.
    return [RateLimit("discovery.search", "100/minute", LOCAL, "discovery searches per client")]


@hookimpl
def startup(app: web.Application) -> None:
    settings = app[SETTINGS]
    storage = app[STORAGE]
    pm = app[PLUGIN_MANAGER]

    async def ask_peers(query: RemoteQuery) -> list[RemoteResults]:
        return await ask_plugins(app, pm.hook.discover_remote_agents, query)

    options = DiscoveryOptions(**settings.plugin_config(NAME))
    app[DISCOVERY_SERVICE] = DiscoveryService(storage.records, storage.cache, options, ask_peers)
    contributed = [
        template
        for templates in pm.hook.register_agent_templates(settings=settings)
        for template in templates or ()
    ]
    app[TEMPLATES] = checked_templates([*builtin_templates(), *contributed])


@hookimpl
def agent_changed(app: web.Application) -> Any:
    service = app.get(DISCOVERY_SERVICE)
    return None if service is None else service.agent_changed()
