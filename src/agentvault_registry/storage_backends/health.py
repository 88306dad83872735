"""The records the ``liveness`` plugin keeps: what probing each agent's origin found.

Part of the records interface (:class:`~agentvault_registry.storage_backends.base.RecordsBackend`
inherits :class:`HealthRecords`). For every agent probed the backend keeps

- its **probe state** (:class:`ProbeState`): what the last probe found, and what the next one
  needs (the ETag to send back, which well-known path answered, the hash of the card served);
- its **uptime**: hourly buckets of probes made and probes answered, kept for
  :data:`UPTIME_WINDOW` and pruned as each probe is recorded, so no agent ever has more than
  about 170 of them;
- on the agent row itself, its **health** (``AgentRecord.health``, the public summary
  discovery filters on) and when it was last probed, which schedules the next probe
  (:meth:`HealthRecords.agents_due_for_probe`).

Health is written without a new version, ``updated_at`` or event: it describes the agent, its
developer did not change it. Only discovery's index follows it, in the same transaction, when
the status changed. Counting is atomic in the backend: concurrent probes of one agent (a round
and an owner's re-check, in two processes) all count.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentvault_registry.storage_backends.agents import AgentRecord

#: How far back ``uptime_7d`` looks, and how long uptime buckets are kept.
UPTIME_WINDOW = dt.timedelta(days=7)


def uptime_hour(moment: dt.datetime) -> dt.datetime:
    """The start of the UTC hour ``moment`` falls in: the bucket a probe then counts in."""
    if moment.utcoffset() is None:
        raise ValueError(f"timestamps must be timezone-aware, got {moment!r}")
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class ProbeState:
    """What the last recorded probe of an agent found."""

    agent_id: str
    checked_at: dt.datetime
    #: The origin probed (``scheme://host:port``); ``etag``, ``card_path`` and
    #: ``served_card_hash`` belong to it and mean nothing for another.
    origin: str
    #: Whether the origin gave any HTTP answer (the uptime counts these).
    reachable: bool
    http_status: int | None = None
    latency_ms: float | None = None
    #: The ETag the origin served its card with, sent back as ``If-None-Match``.
    etag: str | None = None
    #: The well-known path that answered (asked first next time).
    card_path: str | None = None
    #: SHA-256 of the served card once normalized (as ``AgentRecord.card_hash`` is made);
    #: None when no usable card was served.
    served_card_hash: str | None = None
    #: What kept the probe from being healthy, in words; None when nothing did.
    error: str | None = None
    #: Probes in a row that got no answer; the backend counts them.
    consecutive_failures: int = 0
    #: When the origin last answered; the backend keeps it.
    last_reachable_at: dt.datetime | None = None


#: Column names of ``agent_probes``, in the dataclass's field order.
PROBE_FIELDS = tuple(item.name for item in dataclasses.fields(ProbeState))


@dataclass(frozen=True)
class Uptime:
    #: Probes the origin answered, and probes made, in the window.
    answered: int
    probes: int

    @property
    def ratio(self) -> float | None:
        return self.answered / self.probes if self.probes else None


@dataclass(frozen=True)
class RecordedProbe:
    #: The agent's probe state as stored now: the probe recorded, or a later one.
    state: ProbeState
    #: The agent's uptime over the hours kept, the recorded probe included.
    uptime: Uptime


def first_probe_counts(probe: ProbeState) -> dict[str, Any]:
    """``consecutive_failures`` and ``last_reachable_at`` of an agent's first probe; later
    probes derive theirs from the stored ones, in the backend."""
    return {
        "consecutive_failures": 0 if probe.reachable else 1,
        "last_reachable_at": probe.checked_at if probe.reachable else None,
    }


class HealthRecords(abc.ABC):
    @abc.abstractmethod
    async def record_probe(self, probe: ProbeState, *, keep_since: dt.datetime) -> RecordedProbe:
        """In one transaction: count ``probe`` in its hour's uptime bucket
        (:func:`uptime_hour` of ``checked_at``; answered when ``reachable``), remove the
        agent's buckets of hours before ``keep_since``, and store ``probe`` as the agent's
        probe state, unless the stored state is of a later probe (a slow probe that ends after
        a newer one counts in the uptime, but never replaces the newer one's findings).

        ``consecutive_failures`` (0 after an answered probe, one more after an unanswered
        one) and ``last_reachable_at`` are the backend's to derive; what ``probe`` carries
        there is ignored. Returns the state stored now and the uptime of the hours from
        ``keep_since`` on. ``NotFound`` when there is no such agent."""

    @abc.abstractmethod
    async def get_probe_state(self, agent_id: str) -> ProbeState | None:
        """The agent's probe state; None when it was never probed."""

    @abc.abstractmethod
    async def set_agent_health(
        self, agent_id: str, health: Mapping[str, Any], probed_at: dt.datetime
    ) -> AgentRecord | None:
        """Store ``health`` as the agent's health and ``probed_at`` as when it was last probed,
        without bumping its version or ``updated_at`` and without an event; when
        :func:`~agentvault_registry.storage_backends.agents.health_status` changes, re-index
        the agent for discovery in the same transaction. Only for an agent that is not
        deleted and whose stored health is not of a later probe; returns the agent as stored
        then, None when nothing was written."""

    @abc.abstractmethod
    async def agents_due_for_probe(
        self, *, probed_before: dt.datetime, limit: int
    ) -> list[AgentRecord]:
        """At most ``limit`` (positive, else ``ValueError``) active agents with at least one
        interface URL (``api_endpoints``) that were never probed or last probed before
        ``probed_before``: the never probed first (by id), then the least recently probed
        (ties by id)."""
