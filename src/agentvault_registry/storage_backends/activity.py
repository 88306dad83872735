"""The activity log: who did what in the registry, in one strictly ordered sequence.

Part of the records interface (:class:`~agentvault_registry.storage_backends.base.RecordsBackend`
inherits :class:`ActivityRecords`). Every change a person, an agent, a peer or the registry
itself makes is appended as an :class:`ActivityEntry`: agents created, updated and deleted,
accounts registered, logins, API keys and bootstrap tokens issued and used, peers added. It is
what the admin activity feed, a developer's own activity and the event stream read; the event
stream resumes from an entry's ``seq`` (SSE ``Last-Event-ID``).

It is not the agents' change feed (``agent_events``), which federation mirrors read and which
is written in the same transaction as the agent: activity is appended just after the change it
describes, so a crash between the two can lose an entry but never invent one.

Usage counters (searches per day, a developer's API requests per day) are kept beside it, as
daily counts that concurrent increments from several processes all add to.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Who acted: a signed-in user, an agent (its key or SVID), a peer registry, or the registry.
ACTOR_KINDS = ("user", "agent", "peer", "system")


@dataclass(frozen=True)
class ActivityEntry:
    #: Dotted ``<area>.<verb>``: ``agent.created``, ``auth.login``, ``api_key.created``, ...
    action: str
    actor_kind: str
    #: The user, agent or peer id; None for the registry itself or an anonymous request.
    actor_id: str | None
    #: What the action was done to: ``agent``, ``user``, ``api_key``, ``bootstrap_token``, ...
    subject_type: str
    subject_id: str | None
    #: The developer the subject belongs to: whose ``/me/activity`` lists the entry, and who
    #: may see it on the event stream besides admins.
    owner_id: str | None
    occurred_at: dt.datetime
    request_id: str | None = None
    #: Small, secret-free JSON. Agent entries carry the agent's public summary (``name``,
    #: ``agent_type``, ``status``, ``did``, ``capabilities``), which stream filters match.
    details: Mapping[str, Any] = field(default_factory=dict)
    #: Assigned by the backend on append, strictly increasing; 0 before.
    seq: int = 0


@dataclass(frozen=True)
class ActivityFilter:
    #: Entries whose action is one of these, or starts with one ending in ``.``
    #: (``"agent."`` matches every agent action); empty matches every action.
    actions: tuple[str, ...] = ()
    actor_id: str | None = None
    owner_id: str | None = None
    #: Entries this user owns or did (``owner_id`` or ``actor_id``): a developer's own feed.
    owner_or_actor_id: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    #: ``occurred_at`` bounds: ``since`` inclusive, ``until`` exclusive.
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def split_actions(actions: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The exact actions of a filter, and its prefixes as ``[low, high)`` bounds: every
    action starting with ``agent.`` sorts from ``agent.`` (inclusive) to ``agent/``."""
    exact = [action for action in actions if not action.endswith(".")]
    prefixes = [(action, action[:-1] + "/") for action in actions if action.endswith(".")]
    return exact, prefixes


@dataclass(frozen=True)
class DailyCount:
    day: dt.date
    name: str
    count: int


class ActivityRecords(abc.ABC):
    @abc.abstractmethod
    async def append_activity(self, entries: Sequence[ActivityEntry]) -> list[ActivityEntry]:
        """Append ``entries`` in order, atomically; return them with their ``seq``."""

    @abc.abstractmethod
    async def list_activity(
        self,
        activity_filter: ActivityFilter,
        *,
        limit: int,
        after_seq: int | None = None,
        before_seq: int | None = None,
        newest_first: bool = True,
    ) -> list[ActivityEntry]:
        """At most ``limit`` (positive, else ``ValueError``) matching entries with
        ``after_seq < seq < before_seq`` (either bound optional), newest first (the admin feed
        pages backwards with ``before_seq``) or oldest first (the event stream replays
        forwards with ``after_seq``)."""

    @abc.abstractmethod
    async def latest_activity_seq(self) -> int:
        """The highest ``seq`` appended so far; 0 for an empty log."""

    @abc.abstractmethod
    async def count_activity_by_day(self, activity_filter: ActivityFilter) -> list[DailyCount]:
        """Matching entries counted per UTC day of ``occurred_at`` and per action (``name``),
        in day order."""

    @abc.abstractmethod
    async def add_usage(self, counts: Mapping[tuple[dt.date, str, str], int]) -> None:
        """Add each count to the daily counter ``(day, name, key)``; concurrent additions
        from several processes all count. ``key`` is ``""`` for a registry-wide counter
        (``searches``) or a user id (``api_requests`` of that developer). Counts are not
        negative (else ``ValueError``)."""

    @abc.abstractmethod
    async def usage_by_day(
        self, name: str, *, key: str = "", since: dt.date, until: dt.date | None = None
    ) -> list[DailyCount]:
        """The counter ``name`` of ``key`` per day in ``[since, until)``, days with no count
        left out, in day order."""
