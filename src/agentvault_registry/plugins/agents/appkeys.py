"""State the agents plugin keeps in the app."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.plugins.agents.ownership import OwnershipVerifier
from agentvault_registry.plugins.agents.service import AgentService

AGENT_SERVICE = web.AppKey("agent_service", AgentService)
OWNERSHIP = web.AppKey("agent_ownership", OwnershipVerifier)
