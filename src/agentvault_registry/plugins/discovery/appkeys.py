"""State the discovery plugin keeps in the app."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agentvault_registry.plugins.discovery.service import DiscoveryService

DISCOVERY_SERVICE = web.AppKey("discovery_service", DiscoveryService)
TEMPLATES = web.AppKey("discovery_templates", list[dict[str, Any]])
