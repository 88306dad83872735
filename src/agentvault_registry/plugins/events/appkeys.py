"""State the events plugin keeps in the app."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.plugins.events.service import EventHub

EVENT_HUB = web.AppKey("event_hub", EventHub)
