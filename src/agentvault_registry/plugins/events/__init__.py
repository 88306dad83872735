"""The events plugin: ``GET /api/v1/events/stream`` streams the activity log live.

Server-Sent Events by default, a WebSocket when the request asks to upgrade; the same JSON
entries either way. Subscribers are filtered by ``types`` (actions or prefixes like
``agent.``) and ``capability``, see only what they may (admins everything, others the agents'
public events and their own), and resume with ``Last-Event-ID`` (or ``?last_event_id=``) from
the log. One reader per process polls the log while anyone listens, and wakes at once when
this process appends to it.

Config example::

    [plugins.events]
    poll_interval = 0.25        # seconds between reads of the log (other processes' entries)
    buffer_size = 256           # entries a client may lag behind before it is dropped
    max_subscribers = 2000      # streams per process; beyond it 503 with Retry-After
    max_per_user = 20           # streams per caller per process; beyond it 429
    heartbeat_interval = 15     # seconds between keep-alive comments (WebSocket pings)
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import SETTINGS, STORAGE
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.plugins.events import views
from agentvault_registry.plugins.events.appkeys import EVENT_HUB
from agentvault_registry.plugins.events.schemas import EventsOptions
from agentvault_registry.plugins.events.service import EventHub, HubSettings

REQUIRES = ("auth",)
NAME = "events"


@hookimpl
def register_config_schema() -> type[EventsOptions]:
    return EventsOptions


@hookimpl
def register_routes(settings: Settings) -> list[web.RouteDef]:
    return views.routes()


@hookimpl
def startup(app: web.Application) -> None:
    app[EVENT_HUB] = EventHub(
        app[STORAGE].records, HubSettings.from_options(app[SETTINGS].plugin_config(NAME))
    )


@hookimpl
async def stopping(app: web.Application) -> None:
    if EVENT_HUB in app:
        await app[EVENT_HUB].close()


@hookimpl
def activity_recorded(app: web.Application, entry: Any) -> None:
    if EVENT_HUB in app:
        app[EVENT_HUB].wake()
