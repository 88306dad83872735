"""Discovery: searches of the local index, cached, with remote agents from federation merged in.

Results are cached in the cache backend for a short TTL under keys that carry a generation:
every agent change bumps it, so a change invalidates every cached search at once without
scanning keys. The generation has two parts: a shared counter in the cache backend (changes
made by other processes) and this process's own counter, bumped synchronously before a
write's response is sent, so a client of this process finds what it has just written. Keys
also name the process: two processes whose own counters happen to be equal never read each
other's answers. Another process's write is seen once its shared bump lands (milliseconds),
or after the TTL if the cache could not be told. With a read replica, an answer may lag the
primary by the replica's delay and is cached like any other.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentvault_registry.core.asyncutils import await_me_maybe
from agentvault_registry.core.errors import BackendError
from agentvault_registry.core.metrics import DISCOVERY_QUERY_DURATION, counted_get
from agentvault_registry.plugins.agents.schemas import agent_json
from agentvault_registry.plugins.discovery.cursors import (
    cursor_order,
    decode_cursor,
    encode_cursor,
)
from agentvault_registry.plugins.discovery.explain import explanation
from agentvault_registry.plugins.discovery.remote import OK, RemoteQuery, RemoteResults
from agentvault_registry.plugins.discovery.schemas import PREFERENCES, Search
from agentvault_registry.storage_backends.agents import AgentRecord
from agentvault_registry.storage_backends.base import CacheBackend, RecordsBackend
from agentvault_registry.storage_backends.discovery import (
    DiscoveryQuery,
    SearchPage,
    plain_words,
    term,
)

log = logging.getLogger(__name__)

GENERATION_KEY = "discovery:generation"
#: A cache that does not answer within this long is skipped: a search never waits on it.
CACHE_DEADLINE = 0.25
#: Facet values listed per facet, most common first.
FACET_VALUES = 50
#: Facets a search response counts with ``facets=true``: API name -> term kind.
RESPONSE_FACETS = {
    "agent_type": "agent_type",
    "protocol_binding": "binding",
    "security_scheme": "security_scheme",
}
#: The field of the discovery agent shape each newest-first sort orders by.
_TIME_SORT_FIELDS = {"created_at": "createdAt", "updated_at": "updatedAt"}

AskPeers = Callable[[RemoteQuery], Awaitable[list[RemoteResults]]]


@dataclass(frozen=True)
class DiscoveryOptions:
    #: Seconds an answer stays cached; 0 turns the cache off.
    cache_ttl: float = 30.0
    #: Totals are exact up to this many matches.
    count_limit: int = 1_000
    #: Relevance ranks at most this many candidates.
    rank_limit: int = 1_000
    #: Facets of a filtered search count at most this many matches.
    facet_sample_limit: int = 2_000


@dataclass(frozen=True)
class Answer:
    """A response body and its strong validator."""

    body: bytes
    etag: str


def discovered_agent(agent: AgentRecord, registry_url: str) -> dict[str, Any]:
    """A local agent in the discovery shape: the agent, what its card offers, and where it
    is listed."""
    summary = agent.card_summary
    return agent_json(agent) | {
        "a2a": {
            "protocolBindings": list(summary.get("bindings", [])),
            "streaming": bool(summary.get("streaming", False)),
            "pushNotifications": bool(summary.get("push_notifications", False)),
            "inputModes": list(summary.get("input_modes", [])),
            "outputModes": list(summary.get("output_modes", [])),
            "securitySchemes": list(summary.get("security_schemes", [])),
            "extensions": list(summary.get("extensions", [])),
            "skills": list(summary.get("skill_names", [])),
        },
        "is_federated": False,
        "registry_url": registry_url,
    }


def answer(document: Mapping[str, Any]) -> Answer:
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    return Answer(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')


def federation_status(
    requested: bool, results: Sequence[RemoteResults] = (), elapsed_ms: float = 0.0
) -> dict[str, Any]:
    peers = [peer for result in results for peer in result.peers]
    return {
        "requested": requested,
        "peers_queried": len(peers),
        "peers_responded": sum(peer.status == OK for peer in peers),
        "query_time_ms": round(elapsed_ms, 1),
        "peers": [peer.as_json() for peer in peers],
    }


class DiscoveryService:
    def __init__(
        self,
        records: RecordsBackend,
        cache: CacheBackend,
        options: DiscoveryOptions,
        ask_peers: AskPeers,
    ) -> None:
        self._records = records
        self._cache = cache
        self._options = options
        self._ask_peers = ask_peers
        self._local_generation = 0
        self._process = secrets.token_hex(4)

    # ------------------------------------------------------------------ invalidation

    def agent_changed(self) -> Awaitable[None]:
        """Invalidate every cached answer: this process's at once, the others' through the
        shared counter (the returned awaitable, run in the background)."""
        self._local_generation += 1
        return self._bump_shared_generation()

    async def _bump_shared_generation(self) -> None:
        try:
            await self._cache.incr(GENERATION_KEY)
        except BackendError:
            # Other processes keep their answers until the TTL ends; nothing else is at risk.
            log.warning("discovery cache: could not bump the generation", exc_info=True)

    # ------------------------------------------------------------------ searches

    async def search(self, search: Search, registry_url: str) -> Answer:
        if not search.include_federated:
            return await self._local(search, registry_url)
        # Remote agents are merged whole (they are sorted and deduplicated by fields the
        # client may not have asked for); the fields are picked afterwards.
        local = await self._local(dataclasses.replace(search, fields=None), registry_url)
        return await self._with_remote(search, json.loads(local.body))

    async def local_document(self, search: Search, registry_url: str) -> dict[str, Any]:
        """The page of local agents ``search`` finds, never asking peers (how a registry
        answers a federated query)."""
        local = await self._local(
            dataclasses.replace(search, include_federated=False), registry_url
        )
        return json.loads(local.body)

    async def _local(self, search: Search, registry_url: str) -> Answer:
        return await self._cached(
            ("search", registry_url, *self._search_key(search)),
            lambda: self._local_search(search, registry_url),
        )

    async def capabilities(self, search: Search, limit: int) -> Answer:
        async def count() -> dict[str, Any]:
            counted = await self._records.count_terms(
                self._query(search, sort="created_at"),
                kind="capability",
                sample_limit=self._options.facet_sample_limit,
            )
            return {
                "capabilities": [
                    {"capability": value, "count": count}
                    for value, count in most_common(counted.counts, limit)
                ],
                "counts_exact": counted.exact,
            }

        return await self._cached(("capabilities", limit, *self._search_key(search)), count)

    def _search_key(self, search: Search) -> tuple[Any, ...]:
        query = self._query(search)
        return (
            query.words,
            sorted(sorted(group) for group in query.groups),
            query.sort,
            search.page,
            search.per_page,
            search.cursor,
            search.offset,
            search.fields,
            search.facets,
            search.prefer,
            search.explain,
        )

    def _query(self, search: Search, sort: str | None = None) -> DiscoveryQuery:
        words = plain_words(search.text or "")
        chosen = sort or search.effective_sort
        if chosen == "relevance" and not words:
            # Only stop words or punctuation: nothing to rank by, newest first instead.
            chosen = "created_at"
        return DiscoveryQuery(words=words, groups=search.term_groups(), sort=chosen)

    async def _local_search(self, search: Search, registry_url: str) -> dict[str, Any]:
        query = self._query(search)
        order = cursor_order(query.sort, search.prefer)
        after, cursor_offset = decode_cursor(search.cursor, order) if search.cursor else (None, 0)
        offset = cursor_offset + search.offset + (search.page - 1) * search.per_page
        if search.prefer:
            page = await self._preferred_search(query, search.prefer, search.per_page, offset)
        else:
            page = await self._records.search_agents(
                query,
                limit=search.per_page,
                after=after,
                offset=offset,
                count_limit=self._options.count_limit,
                rank_limit=self._options.rank_limit,
            )
        shown = []
        for agent in page.agents:
            found = discovered_agent(agent, registry_url)
            if search.explain:
                found["explain"] = explanation(agent, search, query, page.scores.get(agent.id))
            shown.append(self._shown(found, search))
        document: dict[str, Any] = {
            "agents": shown,
            "pagination": self._pagination(search, query, page, offset, order),
            "federation_status": federation_status(False),
        }
        if search.facets:
            document["facets"] = await self._facets(query)
        return document

    async def _preferred_search(
        self, query: DiscoveryQuery, prefer: Sequence[str], limit: int, offset: int
    ) -> SearchPage:
        """The matches of ``query`` with what ``prefer`` names first: one search per tier of
        the preferences (each tier in the query's own order), paged across the tiers by
        offset. Totals add up the tiers' (each exact up to the count limit)."""
        agents: list[AgentRecord] = []
        scores: dict[str, float] = {}
        total, exact, skip = 0, True, offset
        for tier in preference_tiers(prefer):
            wanted = limit - len(agents)
            page = await self._records.search_agents(
                dataclasses.replace(query, groups=query.groups + tier),
                limit=max(wanted, 1),
                offset=skip,
                count_limit=self._options.count_limit,
                rank_limit=self._options.rank_limit,
            )
            total += page.total
            exact = exact and page.total_exact
            if wanted > 0:
                agents += page.agents
                scores.update(page.scores)
            skip = max(0, skip - page.total)
        return SearchPage(agents, total, exact, None, scores)

    def _pagination(
        self,
        search: Search,
        query: DiscoveryQuery,
        page: SearchPage,
        offset: int,
        order: str,
    ) -> dict[str, Any]:
        if order != query.sort or query.sort == "relevance":
            more = offset + len(page.agents) < page.total
            next_cursor = encode_cursor(order, offset + len(page.agents)) if more else None
        else:
            next_cursor = (
                encode_cursor(query.sort, page.next_after) if page.next_after is not None else None
            )
        return {
            "total": page.total,
            "total_exact": page.total_exact,
            "page": search.page,
            "per_page": search.per_page,
            "pages": math.ceil(page.total / search.per_page),
            "next_cursor": next_cursor,
        }

    async def _facets(self, query: DiscoveryQuery) -> dict[str, Any]:
        facets: dict[str, Any] = {"exact": True}
        for name, kind in RESPONSE_FACETS.items():
            counted = await self._records.count_terms(
                query, kind=kind, sample_limit=self._options.facet_sample_limit
            )
            facets["exact"] = facets["exact"] and counted.exact
            facets[name] = [
                {"value": value, "count": count}
                for value, count in most_common(counted.counts, FACET_VALUES)
            ]
        return facets

    @staticmethod
    def _shown(agent: dict[str, Any], search: Search) -> dict[str, Any]:
        if search.fields is None:
            return agent
        return {key: value for key, value in agent.items() if key in search.fields}

    # ------------------------------------------------------------------ federation

    async def _with_remote(self, search: Search, document: dict[str, Any]) -> Answer:
        """The local page with remote agents: on the first page only (peers page their own
        results; later pages are local, so a cursor walk stays exact), at most ``per_page``
        of them beside the local ones, a DID listed locally shown once."""
        if search.page != 1 or search.cursor is not None:
            document["federation_status"] = federation_status(True)
            return answer(self._picked(document, search))
        started = time.perf_counter()
        sort = self._query(search).sort
        results = await self._ask_peers(
            RemoteQuery(
                text=search.text,
                filters=search.remote_filters(),
                sort=sort,
                limit=search.per_page,
            )
        )
        elapsed_ms = (time.perf_counter() - started) * 1000
        combined = merged(document["agents"], _remote_agents(results), sort)
        document["agents"] = _with_remote_capped(combined, search.per_page)
        document["federation_status"] = federation_status(True, results, elapsed_ms)
        return answer(self._picked(document, search))

    def _picked(self, document: dict[str, Any], search: Search) -> dict[str, Any]:
        document["agents"] = [self._shown(agent, search) for agent in document["agents"]]
        return document

    # ------------------------------------------------------------------ cache

    async def _cached(
        self, key_parts: tuple[Any, ...], compute: Callable[[], Awaitable[dict[str, Any]]]
    ) -> Answer:
        if self._options.cache_ttl <= 0:
            return answer(await self._timed(key_parts[0], compute))
        key = await self._cache_key(key_parts)
        if key is not None:
            cached = await self._cache_get(key)
            if cached is not None:
                etag, _, body = cached.partition(b"\n")
                return Answer(body, etag.decode())
        fresh = answer(await self._timed(key_parts[0], compute))
        if key is not None:
            await self._cache_set(key, fresh.etag.encode() + b"\n" + fresh.body)
        return fresh

    @staticmethod
    async def _timed(
        query: str, compute: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        with DISCOVERY_QUERY_DURATION.labels(query).time():
            return await compute()

    async def _cache_key(self, key_parts: tuple[Any, ...]) -> str | None:
        try:
            async with asyncio.timeout(CACHE_DEADLINE):
                shared = await self._cache.get(GENERATION_KEY)
        except (BackendError, TimeoutError):
            log.debug("discovery cache unavailable; answering without it", exc_info=True)
            return None
        digest = hashlib.sha256(json.dumps(key_parts, default=str).encode()).hexdigest()
        generation = f"{int(shared or 0)}.{self._process}.{self._local_generation}"
        return f"discovery:answer:{generation}:{digest}"

    async def _cache_get(self, key: str) -> bytes | None:
        try:
            async with asyncio.timeout(CACHE_DEADLINE):
                return await counted_get(self._cache, key, purpose="discovery")
        except (BackendError, TimeoutError):
            log.debug("discovery cache unavailable; answering without it", exc_info=True)
            return None

    async def _cache_set(self, key: str, value: bytes) -> None:
        try:
            async with asyncio.timeout(CACHE_DEADLINE):
                await self._cache.set(key, value, ttl=self._options.cache_ttl)
        except (BackendError, TimeoutError):
            log.debug("discovery cache unavailable; answer not kept", exc_info=True)


def preference_tiers(prefer: Sequence[str]) -> list[tuple[tuple[str, ...], ...]]:
    """The term groups of each tier, best first: agents with the first preference, then
    without it, each split the same way by the next preference."""
    tiers: list[tuple[tuple[str, ...], ...]] = [()]
    for name in reversed(prefer):
        flag = PREFERENCES[name]
        yes = tuple(term(flag.kind, value) for value in flag.values(True))
        no = tuple(term(flag.kind, value) for value in flag.values(False))
        tiers = [(yes, *tier) for tier in tiers] + [(no, *tier) for tier in tiers]
    return tiers


def _remote_agents(results: Sequence[RemoteResults]) -> list[Mapping[str, Any]]:
    return [agent for result in results for agent in result.agents]


def merged(
    local: list[dict[str, Any]], remote: Sequence[Mapping[str, Any]], sort: str
) -> list[dict[str, Any]]:
    """Local agents and remote ones in one list: a DID listed locally (or by an earlier peer)
    is shown once, local first; the list follows the sort (relevance: local, then remote)."""
    seen = {agent["did"] for agent in local}
    extra = []
    for agent in remote:
        did = agent.get("did")
        if did is None or did not in seen:
            seen.add(did)
            extra.append(dict(agent))
    combined = local + extra
    if sort == "name":
        combined.sort(key=lambda agent: (str(agent.get("name", "")), str(agent.get("id", ""))))
    elif sort in _TIME_SORT_FIELDS:
        field_name = _TIME_SORT_FIELDS[sort]
        combined.sort(key=lambda agent: _instant(agent.get(field_name)), reverse=True)
    return combined


def _with_remote_capped(agents: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Every local agent of the page and the first ``limit`` remote ones, in list order: the
    remote agents kept are those the sort puts first, whichever peer listed them."""
    kept = []
    remote = 0
    for agent in agents:
        if agent.get("is_federated"):
            remote += 1
            if remote > limit:
                continue
        kept.append(agent)
    return kept


def _instant(value: Any) -> dt.datetime:
    """A timestamp of an agent for ordering; peers' odd or missing values sort last."""
    try:
        instant = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return _EARLIEST
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=dt.UTC)


_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)


async def ask_plugins(
    app: Any, hook: Callable[..., list[Any]], query: RemoteQuery
) -> list[RemoteResults]:
    """Every ``discover_remote_agents`` implementation's results; one that fails, whether
    when called or when awaited, contributes nothing and is logged."""
    try:
        calls = [await_me_maybe(result) for result in hook(app=app, query=query) if result]
    except Exception:
        log.warning("discover_remote_agents failed", exc_info=True)
        return []
    answered = []
    for result in await asyncio.gather(*calls, return_exceptions=True):
        if isinstance(result, RemoteResults):
            answered.append(result)
        elif isinstance(result, BaseException):
            log.warning("discover_remote_agents failed", exc_info=result)
    return answered


def most_common(counts: Mapping[str, int], limit: int) -> list[tuple[str, int]]:
    """The ``limit`` values with the highest counts, ties in value order."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
