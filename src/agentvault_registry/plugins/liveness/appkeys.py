"""State the liveness plugin keeps in the app."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.plugins.liveness.service import LivenessService

LIVENESS_SERVICE = web.AppKey("liveness_service", LivenessService)
