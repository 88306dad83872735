"""The agents plugin: the registry's core record, its A2A card, ownership proof and the
change feed.

Config: none of its own. Cards are stored with the blob backend, fetched (``cardUrl``, ownership
challenges) through the core's SSRF-safe HTTP client (``[outbound]``), and registration is
rate limited as ``agents.create``::

    [rate_limits]
    "agents.create" = "10/minute"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import HTTP_CLIENT, PLUGIN_MANAGER, STORAGE
from agentvault_registry.core.asyncutils import await_me_maybe, first_result
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.core.identity import Identity
from agentvault_registry.core.ratelimit import RateLimit
from agentvault_registry.core.tasks import spawn
from agentvault_registry.plugins.agents import views
from agentvault_registry.plugins.agents.appkeys import AGENT_SERVICE, OWNERSHIP
from agentvault_registry.plugins.agents.cards import SIGNATURES, CardStore, unchecked_signature
from agentvault_registry.plugins.agents.ownership import OwnershipVerifier
from agentvault_registry.plugins.agents.service import AgentService
from agentvault_registry.storage_backends.agents import AgentRecord

REQUIRES = ("auth",)


@hookimpl
def register_routes(settings: Settings) -> list[web.RouteDef]:
    return views.routes()


@hookimpl
def register_rate_limits() -> list[RateLimit]:
    return [RateLimit("agents.create", "10/minute", "closed", "agents registered per client")]


@hookimpl
def startup(app: web.Application) -> None:
    storage = app[STORAGE]
    pm = app[PLUGIN_MANAGER]

    def announce(event_type: str, agent: AgentRecord, actor: Identity | None) -> None:
        for result in pm.hook.agent_changed(
            app=app, event_type=event_type, agent=agent, actor=actor
        ):
            if result is not None:
                spawn(app, await_me_maybe(result), name=f"agent_changed:{event_type}")

    async def check_signatures(document: Any, card: Mapping[str, Any]) -> Mapping[str, Any]:
        verdict = await first_result(
            pm.hook.check_card_signatures(
                app=app, document=document, card=card, signatures_member=SIGNATURES
            )
        )
        return verdict if verdict is not None else unchecked_signature(document)

    cards = CardStore(
        storage.blobs, app[HTTP_CLIENT], lambda work, name: spawn(app, work, name=name)
    )
    service = AgentService(storage.records, cards, announce, check_signatures)
    app[AGENT_SERVICE] = service
    app[OWNERSHIP] = OwnershipVerifier(storage.cache, app[HTTP_CLIENT], service)
