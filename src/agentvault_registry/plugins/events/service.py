"""The event hub: one reader of the activity log per process, fanned out to subscribers.

While anyone listens, a single task reads the entries appended after the last one it saw,
every ``poll_interval`` (entries other processes append reach this one through the shared
records) and at once when this process appends one (``activity_recorded``). Each entry goes
to the bounded queue of every subscriber allowed to see it and asking for it; a subscriber
whose queue is full is dropped, so a slow client costs at most ``buffer_size`` entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from agentvault_registry.core.errors import BackendError, RateLimited, ServiceUnavailable
from agentvault_registry.core.identity import AGENT, Identity
from agentvault_registry.plugins.auth.scopes import ADMIN
from agentvault_registry.storage_backends.activity import ActivityEntry, ActivityFilter

log = logging.getLogger(__name__)

#: Entries one read of the log (live or replay) fetches at most.
PAGE = 200
#: Agent entries carry the agent's public summary: anyone signed in may see them.
PUBLIC_PREFIX = "agent."
#: Why the hub drops a subscriber whose queue is full, and why streams end at shutdown.
TOO_SLOW = "Too slow: the event buffer is full."
STOPPING = "The registry is stopping."


@dataclass(frozen=True)
class HubSettings:
    poll_interval: float
    buffer_size: int
    max_subscribers: int
    max_per_user: int
    heartbeat_interval: float

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> HubSettings:
        return cls(**{name: options[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class StreamFilter:
    #: Actions, or prefixes ending in ``.``; empty: every action.
    types: tuple[str, ...] = ()
    #: Agent entries whose agent has one of these capabilities; empty: no such condition.
    capabilities: tuple[str, ...] = ()

    def matches(self, entry: ActivityEntry) -> bool:
        if self.types and not any(
            entry.action.startswith(t) if t.endswith(".") else entry.action == t for t in self.types
        ):
            return False
        if self.capabilities:
            held = entry.details.get("capabilities") or ()
            return entry.subject_type == "agent" and any(c in held for c in self.capabilities)
        return True


def viewer_key(identity: Identity) -> str:
    """Whom a stream counts against: the developer for a user or API key, the agent itself
    for an agent's own key."""
    return f"{identity.kind}:{identity.subject}" if identity.kind == AGENT else identity.subject


def may_see(identity: Identity, entry: ActivityEntry) -> bool:
    """Admins see everything; others the agents' public events and what they did or own."""
    if identity.has_role(ADMIN) and identity.kind != AGENT:
        return True
    if entry.action.startswith(PUBLIC_PREFIX):
        return True
    return identity.subject in (entry.owner_id, entry.actor_id)


def event_json(entry: ActivityEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "action": entry.action,
        "occurred_at": entry.occurred_at.isoformat(),
        "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_id,
        "subject_type": entry.subject_type,
        "subject_id": entry.subject_id,
        "details": dict(entry.details),
    }


class Dropped(Exception):
    """The subscriber fell ``buffer_size`` entries behind, or the registry is stopping."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Subscription:
    """One client's view of the stream: what it may see and asked for, and its queue."""

    def __init__(
        self, identity: Identity, stream_filter: StreamFilter, buffer_size: int, after_seq: int
    ) -> None:
        self.identity = identity
        self.key = viewer_key(identity)
        self.filter = stream_filter
        self.queue: asyncio.Queue[ActivityEntry] = asyncio.Queue(buffer_size)
        #: The last seq handed to the client: replay and live never repeat one.
        self.delivered_seq = after_seq
        #: Set (with the reason) when the hub drops this subscriber.
        self.ended = asyncio.Event()
        self.end_reason = ""

    def wants(self, entry: ActivityEntry) -> bool:
        return self.filter.matches(entry) and may_see(self.identity, entry)

    def offer(self, entry: ActivityEntry) -> bool:
        """Queue ``entry``; False when the queue is full (the hub then drops the client)."""
        try:
            self.queue.put_nowait(entry)
        except asyncio.QueueFull:
            return False
        return True

    def end(self, reason: str) -> None:
        if not self.ended.is_set():
            self.end_reason = reason
            self.ended.set()


class EventHub:
    def __init__(self, records: Any, settings: HubSettings) -> None:
        self.records = records
        self.settings = settings
        self._subscribers: set[Subscription] = set()
        self._per_key: Counter[str] = Counter()
        self._last_seq = 0
        self._wake = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()
        self._closed = False

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def wake(self) -> None:
        """An entry was appended in this process: read the log now, not at the next poll."""
        self._wake.set()

    async def subscribe(
        self, identity: Identity, stream_filter: StreamFilter, last_event_id: int | None
    ) -> tuple[Subscription, int]:
        """Register a subscriber; return it and the seq up to which it must be replayed
        from the log (entries after it reach its queue)."""
        if self._closed:
            raise ServiceUnavailable(STOPPING)
        if len(self._subscribers) >= self.settings.max_subscribers:
            raise ServiceUnavailable("Too many event streams are open; try again later.")
        key = viewer_key(identity)
        if self._per_key[key] >= self.settings.max_per_user:
            raise RateLimited(
                f"At most {self.settings.max_per_user} event streams per caller.", retry_after=5
            )
        async with self._starting:
            if self._reader is None or self._reader.done():
                self._last_seq = await self.records.latest_activity_seq()
                self._reader = asyncio.create_task(self._read(), name="events.reader")
            # No await between reading the boundary and joining: the reader fans out and
            # moves _last_seq in one synchronous step, so each entry is either before the
            # boundary (replayed) or reaches the queue.
            boundary = self._last_seq
            start = boundary if last_event_id is None else min(last_event_id, boundary)
            subscription = Subscription(identity, stream_filter, self.settings.buffer_size, start)
            self._subscribers.add(subscription)
            self._per_key[key] += 1
        return subscription, boundary

    def unsubscribe(self, subscription: Subscription, reason: str = "closed") -> None:
        if subscription in self._subscribers:
            self._subscribers.discard(subscription)
            self._per_key[subscription.key] -= 1
            if self._per_key[subscription.key] <= 0:
                del self._per_key[subscription.key]
        subscription.end(reason)

    async def events(self, subscription: Subscription, boundary: int) -> AsyncIterator[Any]:
        """The subscriber's entries: the replay up to ``boundary``, then live ones; ``None``
        whenever ``heartbeat_interval`` passes with nothing to send. Raises :class:`Dropped`
        once the hub has dropped the subscriber."""
        while subscription.delivered_seq < boundary:
            page = await self.records.list_activity(
                ActivityFilter(actions=subscription.filter.types),
                limit=PAGE,
                after_seq=subscription.delivered_seq,
                before_seq=boundary + 1,
                newest_first=False,
            )
            if not page:
                break
            for entry in page:
                subscription.delivered_seq = entry.seq
                if subscription.wants(entry):
                    yield entry
        subscription.delivered_seq = max(subscription.delivered_seq, boundary)
        ended = asyncio.ensure_future(subscription.ended.wait())
        got: asyncio.Future[ActivityEntry] | None = None
        try:
            while True:
                if subscription.ended.is_set():
                    raise Dropped(subscription.end_reason)
                if subscription.queue.empty():
                    got = asyncio.ensure_future(subscription.queue.get())
                    done, _ = await asyncio.wait(
                        {got, ended},
                        timeout=self.settings.heartbeat_interval,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    if got not in done:
                        got.cancel()
                        if not done:
                            yield None
                        continue
                    entry = got.result()
                else:
                    entry = subscription.queue.get_nowait()
                if entry.seq > subscription.delivered_seq:
                    subscription.delivered_seq = entry.seq
                    yield entry
        finally:
            # A stream closed while waiting leaves its last get pending: cancel it, or it
            # lingers on the queue until garbage collection destroys it.
            ended.cancel()
            if got is not None:
                got.cancel()

    async def close(self) -> None:
        """End every stream and stop the reader (the app is stopping)."""
        self._closed = True
        for subscription in list(self._subscribers):
            subscription.end(STOPPING)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def _read(self) -> None:
        while self._subscribers:
            self._wake.clear()
            try:
                entries = await self.records.list_activity(
                    ActivityFilter(), limit=PAGE, after_seq=self._last_seq, newest_first=False
                )
            except BackendError:
                log.warning("reading the activity log failed; retrying", exc_info=True)
                entries = []
            for entry in entries:
                self._fan_out(entry)
                self._last_seq = entry.seq
                # Let the subscribers' writers take it before the next one: a burst of a
                # page must not overflow the queue of a client that keeps up.
                await asyncio.sleep(0)
            if len(entries) == PAGE:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval)

    def _fan_out(self, entry: ActivityEntry) -> None:
        for subscription in list(self._subscribers):
            if entry.seq <= subscription.delivered_seq or not subscription.wants(entry):
                continue
            if not subscription.offer(entry):
                log.info("dropping a slow event subscriber (%s)", subscription.key)
                self.unsubscribe(subscription, TOO_SLOW)
