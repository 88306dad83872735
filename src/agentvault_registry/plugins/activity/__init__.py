"""The activity plugin: the registry's activity log and usage, for admins and developers.

- ``GET /api/v1/admin/activity`` (admins): who did what, newest first, with cursors and
  filters (``action`` repeatable, a value ending in ``.`` a prefix; ``actor_id``,
  ``owner_id``, ``subject_type``, ``subject_id``, ``since``, ``until``).
- ``GET /api/v1/me/activity``: a developer's own entries (what they own or did), their API
  requests and their searches per day over the last 30 days.
- ``GET /api/v1/admin/stats?days=30``: agents by type and status, agents created and deleted
  per day, searches per day, top capabilities, the federation peers' health.

It records agent changes (``agent_changed``); other plugins record theirs with
:func:`agentvault_registry.core.activity.record_activity`. Usage is counted per process and
flushed to the shared daily counters every ``flush_interval`` seconds and at shutdown.

Config example::

    [plugins.activity]
    flush_interval = 10    # seconds between two flushes of this process's usage counts
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from marshmallow import RAISE, Schema, fields, validate

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.activity import UsageCounter, record_activity
from agentvault_registry.core.appkeys import STORAGE, USAGE_COUNTER
from agentvault_registry.core.errors import BackendError
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.core.periodic import PeriodicTask
from agentvault_registry.plugins.activity import views
from agentvault_registry.plugins.activity.appkeys import ACTIVITY_SERVICE
from agentvault_registry.plugins.activity.service import ActivityService, agent_summary
from agentvault_registry.storage_backends.agents import AgentRecord

REQUIRES = ("auth",)
NAME = "activity"

log = logging.getLogger(__name__)


class ActivityOptions(Schema):
    class Meta:
        unknown = RAISE

    flush_interval = fields.Float(load_default=10.0, validate=validate.Range(0.1, 3600))


@hookimpl
def register_config_schema() -> type[ActivityOptions]:
    return ActivityOptions


@hookimpl
def register_routes(settings: Settings) -> list[web.RouteDef]:
    return views.routes()


@hookimpl
def startup(app: web.Application) -> None:
    app[ACTIVITY_SERVICE] = ActivityService(app[STORAGE].records)
    app[USAGE_COUNTER] = UsageCounter()


@hookimpl
async def shutdown(app: web.Application) -> None:
    counter = app.get(USAGE_COUNTER)
    if counter is None:
        return
    try:
        await counter.flush(app[STORAGE].records)
    except BackendError:
        log.warning("usage counts lost at shutdown: the records backend failed", exc_info=True)


@hookimpl
def register_periodic_tasks(settings: Settings) -> list[PeriodicTask]:
    interval = settings.plugin_config(NAME)["flush_interval"]
    # Every process flushes its own counts.
    return [PeriodicTask("activity.flush_usage", interval, flush_usage, exclusive=False)]


async def flush_usage(app: web.Application) -> None:
    await app[USAGE_COUNTER].flush(app[STORAGE].records)


@hookimpl
def agent_changed(app: web.Application, event_type: str, agent: AgentRecord, actor: Any) -> Any:
    return record_activity(
        app,
        f"agent.{event_type}",
        actor=actor,
        subject_type="agent",
        subject_id=agent.id,
        owner_id=agent.developer_id,
        details=agent_summary(agent),
    )
