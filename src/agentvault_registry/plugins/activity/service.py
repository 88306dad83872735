"""The activity plugin's logic: the feeds (admin and own), a developer's usage, the stats."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agentvault_registry.core.activity import API_REQUESTS, SEARCHES
from agentvault_registry.storage_backends.activity import (
    ActivityEntry,
    ActivityFilter,
    DailyCount,
)
from agentvault_registry.storage_backends.agents import AgentRecord
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.discovery import DiscoveryQuery

#: How far back a developer's own usage goes.
USAGE_DAYS = 30
TOP_CAPABILITIES = 10
AGENT_CREATED = "agent.created"
AGENT_DELETED = "agent.deleted"


def agent_summary(agent: AgentRecord) -> dict[str, Any]:
    """What an agent entry tells about the agent: its public facts, which stream filters
    match (never a key, token or card body)."""
    return {
        "name": agent.name,
        "agent_type": agent.agent_type,
        "status": agent.status,
        "did": agent.did,
        "human_readable_id": agent.human_readable_id,
        "capabilities": list(agent.capabilities),
    }


def _days(counts: Sequence[DailyCount]) -> list[dict[str, Any]]:
    return [{"day": count.day, "count": count.count} for count in counts]


class ActivityService:
    def __init__(
        self,
        records: RecordsBackend,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.records = records
        self.clock = clock

    async def page(
        self, activity_filter: ActivityFilter, *, limit: int, before_seq: int | None
    ) -> tuple[list[ActivityEntry], int | None]:
        """A page of entries, newest first, and the ``seq`` the next page ends before (None
        on the last page)."""
        # One more than asked tells whether another page follows.
        entries = await self.records.list_activity(
            activity_filter, limit=limit + 1, before_seq=before_seq
        )
        if len(entries) > limit:
            return entries[:limit], entries[limit - 1].seq
        return entries, None

    async def usage(self, user_id: str) -> dict[str, Any]:
        since = self.clock().date() - dt.timedelta(days=USAGE_DAYS - 1)
        requests = await self.records.usage_by_day(API_REQUESTS, key=user_id, since=since)
        searches = await self.records.usage_by_day(SEARCHES, key=user_id, since=since)
        return {
            "api_requests": _days(requests),
            "api_requests_total": sum(count.count for count in requests),
            "searches": _days(searches),
            "searches_total": sum(count.count for count in searches),
            "days": USAGE_DAYS,
        }

    async def stats(self, days: int) -> dict[str, Any]:
        since = self.clock().date() - dt.timedelta(days=days - 1)
        start = dt.datetime.combine(since, dt.time(), dt.UTC)
        changes = await self.records.count_activity_by_day(
            ActivityFilter(actions=(AGENT_CREATED, AGENT_DELETED), since=start)
        )
        capabilities = await self._counts("capability")
        top = sorted(capabilities.items(), key=lambda item: (-item[1], item[0]))
        return {
            "days": days,
            "since": since,
            "agents_by_type": await self._counts("agent_type"),
            "agents_by_status": await self._counts("status"),
            "agents_created": _days([c for c in changes if c.name == AGENT_CREATED]),
            "agents_deleted": _days([c for c in changes if c.name == AGENT_DELETED]),
            "searches": _days(await self.records.usage_by_day(SEARCHES, since=since)),
            "top_capabilities": [
                {"capability": name, "agents": count} for name, count in top[:TOP_CAPABILITIES]
            ],
            "federation": [_peer_health(peer) for peer in await self.records.list_peers()],
        }

    async def _counts(self, kind: str) -> Mapping[str, int]:
        """Agents listed in discovery per value of ``kind`` (deleted agents are not)."""
        return dict((await self.records.count_terms(DiscoveryQuery(), kind=kind)).counts)


def _peer_health(peer: Any) -> dict[str, Any]:
    return {
        "id": peer.id,
        "name": peer.name,
        "status": peer.status,
        "last_seen_at": peer.last_seen_at,
        "last_latency_ms": peer.last_latency_ms,
        "last_error": peer.last_error,
        "consecutive_failures": peer.consecutive_failures,
    }
