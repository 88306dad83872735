"""State the activity plugin keeps on the app."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.plugins.activity.service import ActivityService

ACTIVITY_SERVICE = web.AppKey("activity_service", ActivityService)
