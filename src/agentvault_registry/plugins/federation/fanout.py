"""Asking every active peer for a discovery search at once, within a deadline.

Each peer is asked through the SSRF-safe client (one shared session), with its own timeout
and a cap on the answer's size; its answer is checked against the federation schema before
any of it reaches a client. Answers are cached per (peer, query). A peer that keeps failing
is skipped for a back-off period (see :mod:`.health`), after which one query tries it again.
A peer never makes a search fail: whatever happens to it is reported in its status.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError

from agentvault_registry.core.errors import BackendError, FetchFailed, FetchRefused, FetchTimedOut
from agentvault_registry.core.httpclient import SafeHttpClient
from agentvault_registry.core.httpclient.tls import ServerIdentityContext
from agentvault_registry.core.metrics import (
    FEDERATION_PEER_DURATION,
    FEDERATION_PEER_REQUESTS,
    counted_get,
)
from agentvault_registry.plugins.discovery.remote import (
    ERROR,
    HOP_HEADER,
    OK,
    SKIPPED,
    TIMEOUT,
    PeerStatus,
    RemoteQuery,
    RemoteResults,
)
from agentvault_registry.plugins.federation.health import (
    HALF_OPEN,
    OPEN,
    HealthPolicy,
    circuit_state,
)
from agentvault_registry.plugins.federation.origin import OriginSignatures
from agentvault_registry.plugins.federation.schemas import FederationAnswerSchema
from agentvault_registry.plugins.federation.tokens import TokenCipher
from agentvault_registry.plugins.federation.urls import QUERY_PATH
from agentvault_registry.storage_backends.base import CacheBackend, RecordsBackend
from agentvault_registry.storage_backends.federation import (
    PEER_ACTIVE,
    PEER_UNHEALTHY,
    PeerRecord,
)

log = logging.getLogger(__name__)

#: A cache that does not answer within this long is skipped, as discovery does.
CACHE_DEADLINE = 0.25
#: A healthy peer's ``last_seen_at`` is written at most this often, not on every query.
SEEN_INTERVAL = dt.timedelta(seconds=30)
ANSWER = FederationAnswerSchema()
#: Answers larger than this (as JSON) are not cached.
MAX_CACHED_BYTES = 512 * 1024
#: A peer answering these is limiting our queries: skipped, not counted as failing.
RATE_LIMITED_STATUSES = frozenset({429, 503})
#: How the client's reason for an unexpected transport error begins (what follows is the
#: driver's text, which may quote the peer).
REQUEST_FAILED = "the request failed"

Spawn = Callable[[Coroutine[Any, Any, Any]], None]
#: How to connect to a peer over TLS (``peer_connection_tls``); None: the default.
PeerTls = Callable[[PeerRecord], Awaitable[ServerIdentityContext | None]]


@dataclass(frozen=True)
class FanoutSettings:
    peer_timeout: float
    deadline: float
    cache_ttl: float
    #: Whether peers at http:// URLs may be asked (checked on every query, so turning it off
    #: stops asking peers stored while it was on).
    allow_http: bool


@dataclass(frozen=True)
class PeerOutcome:
    agents: Sequence[Mapping[str, Any]]
    status: PeerStatus


class PeerFailure(Exception):
    """Asking a peer went wrong. ``public`` is what anyone searching may read (a fixed text
    per kind of failure); ``detail`` is for the admin's status page and the logs."""

    def __init__(
        self, status: str, public: str, detail: str | None = None, *, counts: bool = True
    ) -> None:
        super().__init__(detail or public)
        self.status = status
        self.public = public
        self.detail = detail or public
        #: Whether it counts towards the circuit breaker: a peer limiting our queries is
        #: doing its job, not failing.
        self.counts = counts


def peer_query_body(query: RemoteQuery) -> dict[str, Any]:
    """What we send a peer for a discovery search: the first page of its matches."""
    return {
        "search": query.text,
        "filters": dict(query.filters),
        "sort": query.sort,
        "limit": query.limit,
        "offset": 0,
        "active_only": "status" not in query.filters,
    }


@dataclass
class _Round:
    """One fan-out: its body, when it must end, and which peers have a request in flight
    (only those are charged a failure when the deadline cuts them off)."""

    body: Mapping[str, Any]
    ends_at: float
    in_flight: set[str] = field(default_factory=set)

    def time_left(self) -> float:
        return self.ends_at - time.perf_counter()


class PeerQuerier:
    def __init__(
        self,
        records: RecordsBackend,
        cache: CacheBackend,
        client: SafeHttpClient,
        cipher: TokenCipher,
        settings: FanoutSettings,
        health: HealthPolicy,
        spawn: Spawn,
        clock: Callable[[], dt.datetime],
        peer_tls: PeerTls,
        origins: OriginSignatures,
    ) -> None:
        self.records = records
        self.cache = cache
        self.client = client
        self.cipher = cipher
        self.settings = settings
        self.health = health
        self._spawn = spawn
        self._clock = clock
        self._peer_tls = peer_tls
        self._origins = origins

    async def discover(self, query: RemoteQuery) -> RemoteResults:
        """Every asked peer's agents (in peer order: the oldest peering first, which decides
        which copy of a DID listed twice is shown) and each peer's status."""
        peers = await self.records.list_peers((PEER_ACTIVE, PEER_UNHEALTHY))
        if not peers:
            return RemoteResults()
        started = time.perf_counter()
        round_ = _Round(peer_query_body(query), started + self.settings.deadline)
        tasks = [asyncio.create_task(self._ask(peer, round_)) for peer in peers]
        try:
            await asyncio.wait(tasks, timeout=self.settings.deadline)
        finally:
            # Past the deadline, or the search itself was cancelled: no request outlives it.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        elapsed_ms = (time.perf_counter() - started) * 1000
        outcomes = [
            self._outcome(peer, task, round_, elapsed_ms)
            for peer, task in zip(peers, tasks, strict=True)
        ]
        return RemoteResults(
            agents=[agent for outcome in outcomes for agent in outcome.agents],
            peers=[outcome.status for outcome in outcomes],
        )

    def _outcome(
        self, peer: PeerRecord, task: asyncio.Task, round_: _Round, elapsed_ms: float
    ) -> PeerOutcome:
        if task.cancelled():
            error = f"no answer within the deadline of {self.settings.deadline:g} s"
            if peer.id in round_.in_flight:
                observe_peer(peer, TIMEOUT, elapsed_ms)
                self._failed(peer, error)
            return PeerOutcome((), PeerStatus(peer.name, TIMEOUT, elapsed_ms, error))
        if task.exception() is not None:
            # A bug here must not fail the search; it is logged and the peer reported.
            log.error("federation: asking %s failed", peer.name, exc_info=task.exception())
            return PeerOutcome((), PeerStatus(peer.name, ERROR, elapsed_ms, "internal error"))
        return task.result()

    async def _ask(self, peer: PeerRecord, round_: _Round) -> PeerOutcome:
        key = self._cache_key(peer, round_.body)
        cached = await self._cached(key)
        if cached is not None:
            agents, dropped = cached
            status = PeerStatus(peer.name, OK, 0.0, cached=True, dropped=dropped)
            return PeerOutcome(agents, status)
        circuit = circuit_state(peer, self.health, self._clock())
        if circuit.state == OPEN:
            assert circuit.retry_at is not None
            reason = f"failing; tried again after {circuit.retry_at.isoformat()}"
            return PeerOutcome((), PeerStatus(peer.name, SKIPPED, None, reason))
        if circuit.state == HALF_OPEN and not await self._trial_granted(peer):
            reason = "failing; another query is trying it again"
            return PeerOutcome((), PeerStatus(peer.name, SKIPPED, None, reason))
        started = time.perf_counter()
        try:
            agents, dropped = await self._query(peer, round_)
        except PeerFailure as failure:
            latency = (time.perf_counter() - started) * 1000
            observe_peer(peer, failure.status, latency)
            if failure.counts:
                self._failed(peer, failure.detail)
            status = PeerStatus(peer.name, failure.status, latency, failure.public)
            return PeerOutcome((), status)
        latency = (time.perf_counter() - started) * 1000
        observe_peer(peer, OK, latency)
        self._succeeded(peer, latency)
        self._spawn(self._keep(key, agents, dropped))
        return PeerOutcome(agents, PeerStatus(peer.name, OK, latency, dropped=dropped))

    async def _query(self, peer: PeerRecord, round_: _Round) -> tuple[list[dict[str, Any]], int]:
        """The peer's agents that carry its valid signature, and how many did not."""
        if peer.registry_url.startswith("http:") and not self.settings.allow_http:
            raise PeerFailure(ERROR, "http peers are not allowed by this registry's settings")
        try:
            token = self.cipher.decrypt(peer.outbound_token)
        except ValueError:
            raise PeerFailure(
                ERROR,
                "this registry's settings for the peer are not usable",
                "its token cannot be decrypted with the configured keys; set it again",
            ) from None
        # The peer's own timeout, unless less than that is left of the whole fan-out.
        timeout = min(self.settings.peer_timeout, round_.time_left())
        if timeout <= 0:
            raise PeerFailure(TIMEOUT, "no time left before the deadline")
        try:
            tls = await self._peer_tls(peer)
        except FetchFailed as exc:
            # Our side cannot call it as configured (no SVID of ours yet, say): not the
            # peer's failure, so its health is left alone.
            public = "this registry cannot call the peer as configured"
            log.warning("federation: %s: %s: %s", peer.name, public, exc.reason)
            raise PeerFailure(ERROR, public, counts=False) from None
        round_.in_flight.add(peer.id)
        try:
            result = await self.client.post_json(
                peer.registry_url + QUERY_PATH,
                round_.body,
                timeout=timeout,
                headers={"Authorization": f"Bearer {token}", HOP_HEADER: "1"},
                tls=tls,
            )
        except FetchFailed as exc:
            round_.in_flight.discard(peer.id)
            raise fetch_failure(exc, timeout) from None
        round_.in_flight.discard(peer.id)
        try:
            answer = ANSWER.load(result.json)
        except ValidationError as exc:
            public = "the answer is not a federation answer"
            raise PeerFailure(ERROR, public, f"{public}: {_first(exc)}") from None
        # The signature covers the agent as the peer sent it, before our schema trims it.
        kept: list[dict[str, Any]] = []
        for sent, agent in zip(result.json["agents"], answer["agents"], strict=True):
            problem = await self._origins.problem(peer, sent, tls)
            if problem:
                log.warning("federation: dropped an agent of %s: %s", peer.name, problem)
            else:
                kept.append(labelled(agent, peer))
        return kept, len(answer["agents"]) - len(kept)

    # ------------------------------------------------------------------ health

    def _succeeded(self, peer: PeerRecord, latency_ms: float) -> None:
        now = self._clock()
        if (
            peer.consecutive_failures == 0
            and peer.status == PEER_ACTIVE
            and peer.last_seen_at is not None
            and now - peer.last_seen_at < SEEN_INTERVAL
        ):
            return
        self._spawn(self._record(self.records.record_peer_success(peer.id, now, latency_ms)))

    def _failed(self, peer: PeerRecord, error: str) -> None:
        log.warning("federation: peer %s failed: %s", peer.name, error)
        recorded = self.records.record_peer_failure(
            peer.id, self._clock(), error, self.health.failure_threshold
        )
        self._spawn(self._record(recorded))

    @staticmethod
    async def _record(write: Coroutine[Any, Any, Any]) -> None:
        try:
            await write
        except BackendError:
            # Health bookkeeping is best effort: the next query records again.
            log.warning("federation: could not record a peer's health", exc_info=True)

    async def _trial_granted(self, peer: PeerRecord) -> bool:
        """Whether this query is the one that tries a peer whose back-off is over (one per
        back-off, across processes); without the cache, every query may try."""
        lease = f"federation:trial:{peer.id}:{peer.last_failure_at}"
        try:
            async with asyncio.timeout(CACHE_DEADLINE):
                return await self.cache.add(lease, b"1", ttl=self.settings.peer_timeout + 1)
        except (BackendError, TimeoutError):
            return True

    # ------------------------------------------------------------------ cache

    def _cache_key(self, peer: PeerRecord, body: Mapping[str, Any]) -> str:
        # The peer's updated_at is part of the key: changing a peer's settings starts afresh.
        # v2: answers kept with their dropped count (older processes kept bare lists).
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        return f"federation:answer:v2:{peer.id}:{peer.updated_at.timestamp()}:{digest}"

    async def _cached(self, key: str) -> tuple[list[dict[str, Any]], int] | None:
        """A peer's kept answer: its agents, and how many of its agents were dropped."""
        if self.settings.cache_ttl <= 0:
            return None
        try:
            async with asyncio.timeout(CACHE_DEADLINE):
                value = await counted_get(self.cache, key, purpose="federation")
        except (BackendError, TimeoutError):
            return None
        if value is None:
            return None
        kept = json.loads(value)
        return kept["agents"], kept["dropped"]

    async def _keep(self, key: str, agents: list[dict[str, Any]], dropped: int) -> None:
        if self.settings.cache_ttl <= 0:
            return
        value = json.dumps({"agents": agents, "dropped": dropped}).encode()
        if len(value) > MAX_CACHED_BYTES:
            return  # a rare huge answer is asked again rather than crowding the cache
        try:
            async with asyncio.timeout(CACHE_DEADLINE):
                await self.cache.set(key, value, ttl=self.settings.cache_ttl)
        except (BackendError, TimeoutError):
            log.debug("federation cache unavailable; answer not kept", exc_info=True)


def observe_peer(peer: PeerRecord, status: str, latency_ms: float) -> None:
    """Record one query to ``peer`` in the federation metrics (cached answers are not queries)."""
    FEDERATION_PEER_REQUESTS.labels(peer.name, status).inc()
    FEDERATION_PEER_DURATION.labels(peer.name).observe(latency_ms / 1000)


def fetch_failure(exc: FetchFailed, timeout: float) -> PeerFailure:
    """What a failed request to a peer is, publicly and for the admin. The public text is
    fixed per kind: a peer's own words, or the addresses its name resolves to, stay in the
    admin's status."""
    if isinstance(exc, FetchTimedOut):
        return PeerFailure(TIMEOUT, f"no answer within {timeout:.3g} s", exc.reason)
    if isinstance(exc, FetchRefused):
        public = "refused: a redirect, or an address this registry may not reach"
        return PeerFailure(ERROR, public, exc.reason)
    status = exc.details.get("status")
    if status in RATE_LIMITED_STATUSES:
        public = f"the peer is limiting our queries (HTTP {status})"
        return PeerFailure(SKIPPED, public, exc.reason, counts=False)
    if status is not None:
        return PeerFailure(ERROR, f"the peer answered HTTP {status}", exc.reason)
    if exc.reason.startswith(REQUEST_FAILED):
        return PeerFailure(ERROR, "the connection failed", exc.reason)
    # The client's other reasons are its own fixed texts (could not connect, too large,
    # not valid JSON, could not be resolved).
    return PeerFailure(ERROR, exc.reason)


def labelled(agent: Mapping[str, Any], peer: PeerRecord) -> dict[str, Any]:
    """A peer's agent as our clients see it: marked remote, with where it is listed (our
    record of the peer, not what the peer says of itself)."""
    return {
        **agent,
        "is_federated": True,
        "registry_url": peer.registry_url,
        "origin_registry_name": peer.name,
    }


def _first(error: ValidationError) -> str:
    """The first field error, as ``path: message``, for a short status line."""
    messages: Any = error.messages
    path = []
    while isinstance(messages, dict) and messages:
        field, messages = next(iter(messages.items()))
        path.append(str(field))
    if isinstance(messages, list) and messages:
        messages = messages[0]
    return f"{'.'.join(path) or 'body'}: {messages}"
