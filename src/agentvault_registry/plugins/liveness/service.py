"""Liveness: probing agents' origins, their health, and re-syncing a card changed at its
origin.

A probe asks the agent's origin for its card (see :mod:`.origin`) and records what it found:
in the uptime, in the probe state, and as the agent's health. The status is ``unreachable``
without an HTTP answer; ``degraded`` for an answer other than 2xx or 304, a card that is no
usable A2A card, or one slower than the slow threshold; ``healthy`` otherwise. ``card_drift``
compares the served card, normalized as the registry normalizes cards, with the registered one
(null for an agent whose card the registry derives, or when no card was served).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonpatch

from agentvault_registry.a2a.normalize import CardRefused, NormalizedCard, normalize_card
from agentvault_registry.core.errors import Conflict, FetchFailed, PreconditionFailed, RegistryError
from agentvault_registry.core.httpclient import SafeHttpClient
from agentvault_registry.core.identity import Identity
from agentvault_registry.plugins.agents.cards import canonical_json
from agentvault_registry.plugins.agents.service import AgentService, utcnow
from agentvault_registry.plugins.liveness.origin import (
    NOT_MODIFIED,
    Origin,
    OriginAnswer,
    fetch_card,
)
from agentvault_registry.plugins.liveness.slots import HostSlots, SlotExpired
from agentvault_registry.storage_backends.agents import AgentRecord, health_status
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.health import UPTIME_WINDOW, ProbeState, uptime_hour

log = logging.getLogger(__name__)

HEALTHY = "healthy"
DEGRADED = "degraded"
UNREACHABLE = "unreachable"
#: Why a card that answered is no card to compare.
UNUSABLE_CARD = "the served card is not a usable A2A card"


@dataclass(frozen=True)
class ProbeSettings:
    """The ``[plugins.liveness]`` options, in the units the prober works in."""

    enabled: bool
    probe_interval: dt.timedelta
    round_interval: float
    batch_size: int
    max_concurrency: int
    per_host_concurrency: int
    per_host_delay: float
    request_timeout: float
    slow_threshold: float

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ProbeSettings:
        return cls(
            enabled=options["enabled"],
            probe_interval=dt.timedelta(seconds=options["probe_interval"]),
            round_interval=options["round_interval"],
            batch_size=options["batch_size"],
            max_concurrency=options["max_concurrency"],
            per_host_concurrency=options["per_host_concurrency"],
            per_host_delay=options["per_host_delay"],
            request_timeout=options["request_timeout"],
            slow_threshold=options["slow_threshold"],
        )


def card_hash(card: Mapping[str, Any]) -> str:
    """The hash of a normalized card, as ``AgentRecord.card_hash`` holds it."""
    return hashlib.sha256(canonical_json(card)).hexdigest()


def card_diff(registered: Mapping[str, Any], served: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What turns the registered card into the served one: RFC 6902 operations, their paths
    JSON Pointers into the card."""
    return list(jsonpatch.make_patch(dict(registered), dict(served)))


def card_drift(agent: AgentRecord, served_hash: str | None) -> bool | None:
    if agent.card_blob_key is None or served_hash is None:
        return None
    return served_hash != agent.card_hash


def health_report(agent: AgentRecord, state: ProbeState | None) -> dict[str, Any]:
    """The agent's health with what its last probe found (``GET .../health``)."""
    health = dict(agent.health)
    return {
        "agent_id": agent.id,
        "status": health_status(agent),
        "last_checked_at": health.get("last_checked_at"),
        "uptime_7d": health.get("uptime_7d"),
        "latency_ms": health.get("latency_ms"),
        "card_drift": health.get("card_drift"),
        "http_status": health.get("http_status"),
        "card_url": None if state is None else state.origin + (state.card_path or ""),
        "consecutive_failures": 0 if state is None else state.consecutive_failures,
        "last_reachable_at": None
        if state is None or state.last_reachable_at is None
        else state.last_reachable_at.isoformat(),
        "error": None if state is None else state.error,
    }


@dataclass(frozen=True)
class OriginCard:
    """The card an origin serves now, against the registered one."""

    url: str
    normalized: NormalizedCard
    card_hash: str
    card_drift: bool | None
    diff: list[dict[str, Any]]


@dataclass(frozen=True)
class Resynced:
    agent: AgentRecord
    diff: list[dict[str, Any]]
    #: False when the registered card already was the served one.
    changed: bool
    #: What normalizing the served card changed, as for any card sent.
    warnings: list[str]


class LivenessService:
    def __init__(
        self,
        records: RecordsBackend,
        agents: AgentService,
        http: SafeHttpClient,
        settings: ProbeSettings,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.records = records
        self.agents = agents
        self.http = http
        self.settings = settings
        self.clock = clock
        self.slots = HostSlots(
            settings.max_concurrency, settings.per_host_concurrency, settings.per_host_delay
        )

    # ------------------------------------------------------------------ reads

    async def report(self, reference: str) -> dict[str, Any]:
        agent = await self.agents.get(reference)
        return health_report(agent, await self.records.get_probe_state(agent.id))

    # ----------------------------------------------------------------- probes

    async def check(self, agent: AgentRecord) -> dict[str, Any]:
        """Probe ``agent`` now (an owner asked); its health report afterwards."""
        probed = await self.probe(agent)
        return health_report(probed, await self.records.get_probe_state(probed.id))

    async def probe(self, agent: AgentRecord, *, not_after: float | None = None) -> AgentRecord:
        """Probe ``agent``'s origin and record what it found; the agent with its new health."""
        previous = await self.records.get_probe_state(agent.id)
        answer = await self._fetch(agent, previous, conditional=True, not_after=not_after)
        return await self._record(agent, previous, answer, self.clock())

    async def probe_due(self) -> int:
        """One round: probe the agents due (never probed, or not within the probe interval),
        at most a batch, as many at once as the slots allow; the number probed."""
        loop = asyncio.get_running_loop()
        # Probes whose turn comes after the round's end are left to the next round: an
        # overrunning round would overlap the next one, run by another process, and the
        # agents it has not reached yet would be probed twice.
        not_after = loop.time() + self.settings.round_interval
        due = await self.records.agents_due_for_probe(
            probed_before=self.clock() - self.settings.probe_interval,
            limit=self.settings.batch_size,
        )
        self.slots.forget_idle()
        outcomes = await asyncio.gather(
            *(self.probe(agent, not_after=not_after) for agent in due), return_exceptions=True
        )
        probed = 0
        for agent, outcome in zip(due, outcomes, strict=True):
            if isinstance(outcome, SlotExpired):
                continue
            if isinstance(outcome, RegistryError):
                # A backend outage or an agent deleted meanwhile: the rest of the round goes on.
                log.warning("probing agent %s failed: %s", agent.id, outcome)
            elif isinstance(outcome, BaseException):
                log.error("probing agent %s failed", agent.id, exc_info=outcome)
            else:
                probed += 1
        return probed

    async def _fetch(
        self,
        agent: AgentRecord,
        previous: ProbeState | None,
        *,
        conditional: bool,
        not_after: float | None = None,
    ) -> OriginAnswer:
        return await fetch_card(
            self.http,
            self.slots,
            Origin.of(agent),
            timeout=self.settings.request_timeout,
            previous=previous,
            conditional=conditional,
            not_after=not_after,
        )

    async def _record(
        self,
        agent: AgentRecord,
        previous: ProbeState | None,
        answer: OriginAnswer,
        checked_at: dt.datetime,
    ) -> AgentRecord:
        served_hash, card_problem = _served_card_hash(answer, previous)
        status, error = self._verdict(answer, card_problem)
        usable = answer.failure is None
        state = ProbeState(
            agent_id=agent.id,
            checked_at=checked_at,
            origin=answer.origin.url,
            reachable=answer.reachable,
            http_status=answer.status,
            latency_ms=answer.latency_ms,
            etag=(answer.etag or _previous_etag(answer, previous)) if usable else None,
            card_path=answer.path if usable else None,
            served_card_hash=served_hash,
            error=error,
        )
        recorded = await self.records.record_probe(
            state, keep_since=uptime_hour(checked_at - UPTIME_WINDOW)
        )
        ratio = recorded.uptime.ratio
        health = {
            "status": status,
            "last_checked_at": checked_at.isoformat(),
            "uptime_7d": None if ratio is None else round(ratio, 4),
            "latency_ms": None if answer.latency_ms is None else round(answer.latency_ms, 1),
            "card_drift": card_drift(agent, served_hash),
            "http_status": answer.status,
        }
        stored = await self.records.set_agent_health(agent.id, health, checked_at)
        # None: a later probe's health is stored already (or the agent was deleted).
        return stored if stored is not None else await self.agents.get(agent.id)

    def _verdict(self, answer: OriginAnswer, card_problem: str | None) -> tuple[str, str | None]:
        """The health status of a probe that got ``answer``, and why it is not healthy."""
        if answer.failure is not None:
            return (DEGRADED if answer.reachable else UNREACHABLE), answer.failure.reason
        if card_problem is not None:
            return DEGRADED, card_problem
        assert answer.latency_ms is not None, "every answer is timed"
        threshold = self.settings.slow_threshold * 1000
        if answer.latency_ms > threshold:
            return DEGRADED, f"answered in {answer.latency_ms:.0f} ms, over {threshold:.0f} ms"
        return HEALTHY, None

    # ---------------------------------------------------------- origin cards

    async def origin_card(self, agent: AgentRecord) -> OriginCard:
        """The card ``agent``'s origin serves now, normalized, and what changed against the
        registered one. 422 when the origin serves none (``fetch_failed``) or no usable card
        (``invalid_agent_card``, with field paths)."""
        answer = await self._fetch(agent, None, conditional=False)
        return await self._compare(agent, answer)

    async def resync(
        self,
        actor: Identity,
        agent: AgentRecord,
        *,
        expected_version: int | None,
        reviewed_hash: str | None,
    ) -> Resynced:
        """Store the card ``agent``'s origin serves now as its card, as an update by
        ``actor``; 409 when it is not the one reviewed (``reviewed_hash``), 412 when the agent
        is no longer at ``expected_version``. The fetch counts as a probe."""
        if expected_version is not None and expected_version != agent.version:
            raise PreconditionFailed("The agent has changed since that version.")
        previous = await self.records.get_probe_state(agent.id)
        answer = await self._fetch(agent, previous, conditional=False)
        checked_at = self.clock()
        served = await self._compare(agent, answer)
        if reviewed_hash is not None and reviewed_hash != served.card_hash:
            raise Conflict(
                "The origin serves another card than the one reviewed.",
                details={"card_hash": served.card_hash},
            )
        if served.card_drift is False:
            updated, changed, warnings = agent, False, []
        else:
            written = await self.agents.update(
                actor,
                agent.id,
                {"card": served.normalized.original},
                expected_version=expected_version,
            )
            updated, changed, warnings = written.agent, True, written.warnings
        recorded = await self._record(updated, previous, answer, checked_at)
        return Resynced(recorded, served.diff, changed, warnings)

    async def _compare(self, agent: AgentRecord, answer: OriginAnswer) -> OriginCard:
        if answer.failure is not None:
            raise answer.failure
        if answer.body is None:
            raise FetchFailed(url=answer.url, reason=f"the server answered HTTP {answer.status}")
        normalized = normalize_card(answer.body)
        served_hash = card_hash(normalized.card)
        registered = await self.agents.card(agent)
        return OriginCard(
            url=answer.url,
            normalized=normalized,
            card_hash=served_hash,
            card_drift=card_drift(agent, served_hash),
            diff=card_diff(registered.card, normalized.card),
        )


def _served_card_hash(
    answer: OriginAnswer, previous: ProbeState | None
) -> tuple[str | None, str | None]:
    """The hash of the card ``answer`` served (a 304: the card ``previous`` found), and what
    was wrong with the card."""
    if answer.status == NOT_MODIFIED:
        return _previous_served(answer, previous), None
    if answer.body is None:
        return None, None
    try:
        normalized = normalize_card(answer.body)
    except CardRefused:
        return None, UNUSABLE_CARD
    return card_hash(normalized.card), None


def _same_card_source(answer: OriginAnswer, previous: ProbeState | None) -> bool:
    return (
        previous is not None
        and previous.origin == answer.origin.url
        and previous.card_path == answer.path
    )


def _previous_served(answer: OriginAnswer, previous: ProbeState | None) -> str | None:
    return previous.served_card_hash if _same_card_source(answer, previous) else None


def _previous_etag(answer: OriginAnswer, previous: ProbeState | None) -> str | None:
    """A 304 may leave its ETag out: the one it confirmed is still the card's."""
    if answer.status != NOT_MODIFIED or not _same_card_source(answer, previous):
        return None
    assert previous is not None
    return previous.etag
