"""Recording who did what (the activity log) and counting usage (searches, API requests).

Plugins call :func:`record_activity` after a change is committed; it appends one
:class:`~agentvault_registry.storage_backends.activity.ActivityEntry` and announces it through
the ``activity_recorded`` hook. Recording never fails the request that made the change: the
change is already stored, so a backend error while appending is logged and dropped.

Usage is counted in memory (:class:`UsageCounter`, one per process) and added to the shared
daily counters by a periodic flush, never with a database write per request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

# A module import: identity counts API requests with this module, which it imports first.
from agentvault_registry.core import identity as identities
from agentvault_registry.core.appkeys import PLUGIN_MANAGER, STORAGE, USAGE_COUNTER
from agentvault_registry.core.asyncutils import await_me_maybe
from agentvault_registry.core.errors import BackendError
from agentvault_registry.core.logs import request_id_var
from agentvault_registry.storage_backends.activity import ActivityEntry
from agentvault_registry.storage_backends.base import RecordsBackend

if TYPE_CHECKING:
    from agentvault_registry.core.identity import Identity

log = logging.getLogger(__name__)

#: The daily counters the registry keeps.
SEARCHES = "searches"
API_REQUESTS = "api_requests"
_NO_REQUEST = "-"


def actor_of(identity: Identity | None) -> tuple[str, str | None]:
    """``(actor_kind, actor_id)`` of the caller; the registry itself when there is none."""
    if identity is None:
        return "system", None
    if identity.kind == identities.AGENT:
        return "agent", identity.subject
    if identity.kind == "peer":
        return "peer", identity.subject
    # Sessions and API keys act for their user (the subject is the user's id).
    return "user", identity.subject


async def record_activity(
    app: web.Application,
    action: str,
    *,
    actor: Identity | None,
    subject_type: str,
    subject_id: str | None,
    owner_id: str | None,
    details: Mapping[str, Any] | None = None,
) -> ActivityEntry | None:
    """Append one entry (``details`` small and secret-free) and call ``activity_recorded``;
    the stored entry, or None when the backend could not take it."""
    actor_kind, actor_id = actor_of(actor)
    request_id = request_id_var.get()
    entry = ActivityEntry(
        action=action,
        actor_kind=actor_kind,
        actor_id=actor_id,
        subject_type=subject_type,
        subject_id=subject_id,
        owner_id=owner_id,
        occurred_at=dt.datetime.now(dt.UTC),
        request_id=None if request_id == _NO_REQUEST else request_id,
        details=dict(details or {}),
    )
    try:
        (stored,) = await app[STORAGE].records.append_activity([entry])
    except BackendError:
        log.warning("activity %s not recorded: the records backend failed", action, exc_info=True)
        return None
    for result in app[PLUGIN_MANAGER].hook.activity_recorded(app=app, entry=stored):
        await await_me_maybe(result)
    return stored


class UsageCounter:
    """Per-process usage counts waiting to be added to the shared daily counters."""

    def __init__(self, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self._clock = clock
        self._pending: Counter[tuple[dt.date, str, str]] = Counter()
        self._flushing = asyncio.Lock()

    def count(self, name: str, key: str = "") -> None:
        self._pending[(self._clock().date(), name, key)] += 1

    async def flush(self, records: RecordsBackend) -> None:
        """Add the pending counts; kept for the next flush when the backend fails."""
        async with self._flushing:
            pending, self._pending = self._pending, Counter()
            if not pending:
                return
            try:
                await records.add_usage(pending)
            except BackendError:
                self._pending.update(pending)
                raise


def count_usage(app: web.Application, name: str, key: str = "") -> None:
    """Count one use, when the app keeps usage (the ``activity`` plugin is loaded)."""
    counter = app.get(USAGE_COUNTER)
    if counter is not None:
        counter.count(name, key)


def developer_of(identity: Identity | None) -> str | None:
    """The developer a caller acts for: signed in, by API key, or as one of their agents."""
    if identity is None:
        return None
    if identity.kind == identities.AGENT:
        developer_id = identity.claims.get("developer_id")
        return developer_id if isinstance(developer_id, str) else None
    if identity.kind in ("user", "api_key"):
        return identity.subject
    return None


def count_api_request(app: web.Application, identity: Identity) -> None:
    """Count a request of a developer (see :func:`developer_of`)."""
    developer_id = developer_of(identity)
    if developer_id is not None:
        count_usage(app, API_REQUESTS, developer_id)


def count_search(app: web.Application, identity: Identity | None) -> None:
    """Count one search for the registry, and for the developer who made it, if any."""
    count_usage(app, SEARCHES)
    developer_id = developer_of(identity)
    if developer_id is not None:
        count_usage(app, SEARCHES, developer_id)
