"""The discovery records (the search index over the agents) in PostgreSQL.

The index is written with every agent (:mod:`postgresql_discovery_index`); a search plans
from the running counts (:mod:`postgresql_discovery_plan`) and finds a page of matches
(:mod:`postgresql_discovery_scan`) and the newest matches it ranks or counts
(:mod:`postgresql_discovery_newest`) at a bounded cost. Searches read the read replica when
there is one, each in one repeatable-read snapshot, so a page and its total see the same
agents.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from agentvault_registry.storage_backends.agents import DELETED, STATUSES, AgentEvent, AgentRecord
from agentvault_registry.storage_backends.discovery import (
    INDEX_VERSION,
    DiscoveryQuery,
    DiscoveryRecords,
    SearchPage,
    SortKey,
    TermCounts,
    check_search_arguments,
    sort_key,
    term,
    term_value,
)
from agentvault_registry.storage_backends.postgresql_agents import (
    AGENT_COLUMNS,
    EVENT_INSERT_COLUMNS,
    EVENT_LOCK_KEY,
    decode_agent,
    encoded_agent,
    event_values,
    unique_conflicts,
)
from agentvault_registry.storage_backends.postgresql_discovery_index import (
    index_new_agents,
    stored_term,
)
from agentvault_registry.storage_backends.postgresql_discovery_newest import NewestMatches
from agentvault_registry.storage_backends.postgresql_discovery_plan import (
    SearchPlan,
    plan_search,
)
from agentvault_registry.storage_backends.postgresql_discovery_scan import ORDERS, page_in_order

if TYPE_CHECKING:
    import asyncpg

#: Registry meta key of the version of what the index was built by.
INDEX_VERSION_KEY = "discovery_index_version"
#: Agents read and indexed at a time by a rebuild: its memory stays bounded.
REBUILD_BATCH = 5_000
#: Agents written by one statement of an import.
IMPORT_CHUNK = 5_000
# For one search transaction. A search is a few milliseconds of index walks and look-ups: a
# JIT compilation (tens of milliseconds) or parallel workers' start-up only slow it down; a
# plan made for no particular values (a prepared statement's generic plan) cannot know how
# rare a word or how wide a seq range is, which decides the plan; and a sequential scan of the
# table is never the way to any of these queries, so a planner misled by sampled text
# statistics must not pick one.
_SEARCH_SETTINGS = (
    "SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0;"
    " SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL enable_seqscan = off"
)
_INDEXED_STATUSES = tuple(status for status in STATUSES if status != DELETED)
_RUNNING_COUNTS = """
SELECT term, sum(agents) AS agents FROM agent_term_counts
WHERE term >= $1 AND term < $2 AND status = ANY($3::text[])
GROUP BY term HAVING sum(agents) > 0
"""
_SAMPLED_COUNTS = """
SELECT lexeme AS term, count(*) AS agents FROM agent_search, unnest(terms)
WHERE seq = ANY($1::bigint[]) AND starts_with(lexeme, $2) GROUP BY lexeme
"""
_AGENTS_TO_INDEX = f"""
SELECT {AGENT_COLUMNS} FROM agents
WHERE status <> '{DELETED}' AND (created_at, id) > ($1, $2) ORDER BY created_at, id LIMIT $3
"""


class PostgresDiscovery(DiscoveryRecords):
    """The discovery part of
    :class:`~agentvault_registry.storage_backends.postgresql.PostgresRecords`, built on its
    ``connection()`` and ``reader()``."""

    async def search_agents(
        self,
        query: DiscoveryQuery,
        *,
        limit: int,
        after: SortKey | None = None,
        offset: int = 0,
        count_limit: int = 1_000,
        rank_limit: int = 1_000,
    ) -> SearchPage:
        check_search_arguments(
            query,
            limit=limit,
            after=after,
            offset=offset,
            count_limit=count_limit,
            rank_limit=rank_limit,
        )
        query = _as_stored(query)
        async with self._search() as conn:
            plan = await plan_search(conn, query)
            if not plan.satisfiable:
                return SearchPage(agents=[], total=0, total_exact=True, next_after=None)
            if query.sort == "relevance":
                return await _ranked_page(conn, plan, limit, offset, rank_limit)
            return await _keyset_page(conn, plan, query, limit, after, offset, count_limit)

    async def count_terms(
        self, query: DiscoveryQuery, *, kind: str, sample_limit: int = 10_000
    ) -> TermCounts:
        if sample_limit < 0:
            raise ValueError("sample_limit must not be negative")
        prefix = term(kind, "")
        query = _as_stored(query)
        async with self._search() as conn:
            statuses = _running_count_statuses(query)
            if statuses is not None:
                # Right after the prefix in code-point order: the range holds the kind's terms.
                end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
                rows = await conn.fetch(_RUNNING_COUNTS, prefix, end, list(statuses))
                return TermCounts(_by_value(kind, rows), exact=True)
            plan = await plan_search(conn, query)
            if not plan.satisfiable:
                return TermCounts({}, exact=True)
            newest = await NewestMatches.of(conn, plan)
            seqs = await newest.seqs(sample_limit + 1)
            sample = sorted(seqs, reverse=True)[:sample_limit]
            rows = await conn.fetch(_SAMPLED_COUNTS, sample, prefix)
            return TermCounts(_by_value(kind, rows), exact=len(seqs) <= sample_limit)

    async def import_agents(self, agents: Sequence[AgentRecord]) -> None:
        if not agents:
            return
        async with self.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", EVENT_LOCK_KEY)
            # Chunks keep each statement within the command timeout however many agents come.
            for start in range(0, len(agents), IMPORT_CHUNK):
                await _import_chunk(conn, agents[start : start + IMPORT_CHUNK])

    @contextlib.asynccontextmanager
    async def _search(self) -> AsyncIterator[asyncpg.Connection]:
        """A reader connection in a read-only snapshot, with the search settings."""
        async with (
            self.reader() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            await conn.execute(_SEARCH_SETTINGS)
            yield conn


async def rebuild_index_if_outdated(conn: asyncpg.Connection) -> None:
    """Rebuild the whole index from the agents on ``conn`` unless registry meta says this
    code's :data:`INDEX_VERSION` built it; then record that version. One transaction under
    the event lock: agent writers wait rather than index against a half-built index."""
    built_by = await conn.fetchval(
        "SELECT value FROM registry_meta WHERE key = $1", INDEX_VERSION_KEY
    )
    if built_by == INDEX_VERSION:
        return
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", EVENT_LOCK_KEY)
        await conn.execute(
            "TRUNCATE agent_search, agent_term_counts, agent_word_counts RESTART IDENTITY"
        )
        # The smallest key there is: every agent comes after it.
        after: SortKey = (dt.datetime.min.replace(tzinfo=dt.UTC), "")
        while rows := await conn.fetch(_AGENTS_TO_INDEX, *after, REBUILD_BATCH):
            batch = [decode_agent(row) for row in rows]
            await index_new_agents(conn, batch)
            after = (batch[-1].created_at, batch[-1].id)
        await conn.execute(
            "INSERT INTO registry_meta (key, value) VALUES ($1, $2) ON CONFLICT (key)"
            " DO UPDATE SET value = excluded.value, updated_at = now()",
            INDEX_VERSION_KEY,
            INDEX_VERSION,
        )
    # Rebuilt tables have no visibility map and no planner statistics (the sampled frequencies
    # of words and terms the inner look-ups are planned by) until autovacuum comes by.
    await conn.execute("VACUUM (ANALYZE) agent_search, agent_term_counts, agent_word_counts")


async def _import_chunk(conn: asyncpg.Connection, agents: Sequence[AgentRecord]) -> None:
    """COPY ``agents``, their ``created`` events and their index rows."""
    with unique_conflicts():
        await conn.copy_records_to_table(
            "agents",
            records=(tuple(encoded_agent(agent).values()) for agent in agents),
            columns=list(encoded_agent(agents[0])),
        )
    await conn.copy_records_to_table(
        "agent_events",
        records=(event_values(_created(agent), agent) for agent in agents),
        columns=EVENT_INSERT_COLUMNS,
    )
    await index_new_agents(conn, agents)


async def _ranked_page(
    conn: asyncpg.Connection, plan: SearchPlan, limit: int, offset: int, rank_limit: int
) -> SearchPage:
    """Rank the newest ``rank_limit`` matches, best first (ties: newest, then highest id)."""
    newest = await NewestMatches.of(conn, plan)
    matched, best = await newest.best(rank_limit, offset + limit)
    shown = best[offset:]
    return SearchPage(
        agents=await _agents_by_id(conn, [row["agent_id"] for row in shown]),
        total=min(matched, rank_limit),
        total_exact=matched <= rank_limit,
        next_after=None,
        scores={row["agent_id"]: row["score"] for row in shown},
    )


async def _keyset_page(
    conn: asyncpg.Connection,
    plan: SearchPlan,
    query: DiscoveryQuery,
    limit: int,
    after: SortKey | None,
    offset: int,
    count_limit: int,
) -> SearchPage:
    ids = await page_in_order(conn, plan, ORDERS[query.sort], after, offset + limit + 1)
    agents = await _agents_by_id(conn, ids[offset : offset + limit])
    more = len(ids) > offset + limit
    matches = _running_total(plan, query)
    if matches is None:
        matches = await (await NewestMatches.of(conn, plan)).count(count_limit + 1)
    return SearchPage(
        agents=agents,
        total=min(matches, count_limit),
        total_exact=matches <= count_limit,
        next_after=sort_key(agents[-1], query.sort) if more else None,
    )


def _as_stored(query: DiscoveryQuery) -> DiscoveryQuery:
    """``query`` with its terms as the index keeps them."""
    groups = tuple(tuple(stored_term(item) for item in group) for group in query.groups)
    return dataclasses.replace(query, groups=groups)


def _running_total(plan: SearchPlan, query: DiscoveryQuery) -> int | None:
    """The number of matches from the running counts, when the query is no more than one
    status group and one single-term group; None for any other query."""
    status_groups = [group for group in query.groups if _is_status_group(group)]
    others = [group for group in query.groups if not _is_status_group(group)]
    if query.words or len(status_groups) > 1 or len(others) > 1:
        return None
    if others and len(others[0]) > 1:
        return None
    statuses = _statuses(status_groups[0] if status_groups else None)
    return sum(
        plan.term_counts[others[0][0] if others else term("status", status)].get(status, 0)
        for status in statuses
    )


def _running_count_statuses(query: DiscoveryQuery) -> tuple[str, ...] | None:
    """The statuses whose running counts answer ``query`` exactly: a query of no words and
    at most one group, of status terms only; None for any other query."""
    if query.words or len(query.groups) > 1:
        return None
    if query.groups and not _is_status_group(query.groups[0]):
        return None
    return _statuses(query.groups[0] if query.groups else None)


def _statuses(status_group: tuple[str, ...] | None) -> tuple[str, ...]:
    """The statuses a status group allows; without one, every indexed status."""
    if status_group is None:
        return _INDEXED_STATUSES
    return tuple(term_value("status", item) for item in status_group)


def _is_status_group(group: tuple[str, ...]) -> bool:
    return all(item.startswith(term("status", "")) for item in group)


def _by_value(kind: str, rows: Iterable[Mapping[str, object]]) -> dict[str, int]:
    return {term_value(kind, row["term"]): int(row["agents"]) for row in rows}


async def _agents_by_id(conn: asyncpg.Connection, ids: list[str]) -> list[AgentRecord]:
    """The agents of ``ids``, in that order."""
    rows = await conn.fetch(f"SELECT {AGENT_COLUMNS} FROM agents WHERE id = ANY($1::text[])", ids)
    by_id = {row["id"]: decode_agent(row) for row in rows}
    return [by_id[agent_id] for agent_id in ids]


def _created(agent: AgentRecord) -> AgentEvent:
    """The ``created`` event of an imported agent: its developer made it when it says."""
    return AgentEvent("created", agent.id, agent.developer_id, agent.created_at, {})
