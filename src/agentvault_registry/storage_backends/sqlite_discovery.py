"""The discovery records (search, facet counts, bulk import) in SQLite.

The index (``agent_search`` and its FTS5 table, each agent's terms in ``agent_doc_terms`` and
the postings of each term in ``agent_terms``, ``agent_term_counts``) is written by
:mod:`~agentvault_registry.storage_backends.sqlite_discovery_index` in every agent write's
transaction; queries are planned by
:mod:`~agentvault_registry.storage_backends.sqlite_discovery_plan`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aiosqlite

from agentvault_registry.storage_backends.agents import AgentEvent, AgentRecord
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
)
from agentvault_registry.storage_backends.sqlite_agents import (
    _AGENT_COLUMNS,
    _decode_agent,
    append_events,
    insert_agents,
)
from agentvault_registry.storage_backends.sqlite_discovery_index import index_agents
from agentvault_registry.storage_backends.sqlite_discovery_plan import (
    QueryPlan,
    Sql,
    allowed_statuses,
    plan_query,
)

INDEX_VERSION_KEY = "discovery_index_version"
#: Agents indexed per transaction when the index is rebuilt: bounds memory, and lets other
#: processes write between batches.
REBUILD_BATCH = 2_000
#: Agents inserted per executemany by import_agents (all in one transaction).
IMPORT_BATCH = 5_000


class SqliteDiscovery(DiscoveryRecords):
    """The discovery part of :class:`~agentvault_registry.storage_backends.sqlite.SqliteRecords`,
    built on its ``_transaction()`` (``BEGIN IMMEDIATE``) and ``_snapshot()``.

    Every search runs in one read transaction: its sizing, its page and its count see the same
    database.
    """

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
        async with self._snapshot() as conn:
            plan = await plan_query(conn, query)
            if plan.matches_nothing:
                return SearchPage(agents=[], total=0, total_exact=True, next_after=None)
            if query.sort == "relevance":
                return await _ranked_page(conn, plan, limit, offset, rank_limit)
            return await _sorted_page(conn, plan, limit, after, offset, count_limit)

    async def count_terms(
        self, query: DiscoveryQuery, *, kind: str, sample_limit: int = 10_000
    ) -> TermCounts:
        prefix = term(kind, "")
        async with self._snapshot() as conn:
            if _counted_by_status_alone(query):
                return TermCounts(await _running_counts(conn, prefix, query), exact=True)
            plan = await plan_query(conn, query)
            docs = [row[0] for row in await _fetch(conn, plan.matches(sample_limit + 1))]
            sample = docs[:sample_limit]
            exact = len(docs) == len(sample)
            return TermCounts(await _sampled_counts(conn, prefix, sample), exact)

    async def import_agents(self, agents: Sequence[AgentRecord]) -> None:
        async with self._transaction() as conn:
            for start in range(0, len(agents), IMPORT_BATCH):
                await _import_batch(conn, agents[start : start + IMPORT_BATCH])

    async def _rebuild_stale_discovery_index(self) -> None:
        """Rebuild the index when it was built by another :data:`INDEX_VERSION` (or never),
        batch by batch, each batch in its own transaction; the version is stored last, so an
        interrupted rebuild starts again on the next ``migrate()``."""
        if await self.get_meta(INDEX_VERSION_KEY) == INDEX_VERSION:
            return
        last_rowid = 0
        while last_rowid is not None:
            async with self._transaction() as conn:
                last_rowid = await _reindex_batch(conn, last_rowid)
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO registry_meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                (INDEX_VERSION_KEY, INDEX_VERSION),
            )


# ------------------------------------------------------------------ searching


async def _sorted_page(
    conn: aiosqlite.Connection,
    plan: QueryPlan,
    limit: int,
    after: SortKey | None,
    offset: int,
    count_limit: int,
) -> SearchPage:
    rows = await _fetch(conn, plan.page(plan.query.sort, after, limit + 1, offset))
    agents = await _agents_by_id(conn, [row[0] for row in rows[:limit]])
    counted = await _count(conn, plan.matches(count_limit + 1))
    more = len(rows) > limit
    return SearchPage(
        agents=agents,
        total=min(counted, count_limit),
        total_exact=counted <= count_limit,
        next_after=sort_key(agents[-1], plan.query.sort) if more else None,
    )


async def _ranked_page(
    conn: aiosqlite.Connection, plan: QueryPlan, limit: int, offset: int, rank_limit: int
) -> SearchPage:
    candidates = await _fetch(conn, plan.ranked_candidates(rank_limit))
    ranked = sorted(candidates[:rank_limit], key=_rank_order, reverse=True)
    shown = ranked[offset : offset + limit]
    return SearchPage(
        agents=await _agents_by_id(conn, [agent_id for agent_id, _, _ in shown]),
        total=min(len(candidates), rank_limit),
        total_exact=len(candidates) <= rank_limit,
        next_after=None,
        scores={agent_id: score for agent_id, _, score in shown},
    )


def _rank_order(candidate: tuple[str, str, float]) -> tuple[float, str, str]:
    """Score, then created_at, then id: sorted in reverse, the best and newest first."""
    agent_id, created_at, score = candidate
    return (score, created_at, agent_id)


async def _agents_by_id(conn: aiosqlite.Connection, ids: Sequence[str]) -> list[AgentRecord]:
    """The agents with ``ids``, in that order."""
    rows = await conn.execute_fetchall(
        f"SELECT {_AGENT_COLUMNS} FROM agents WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(ids)),),
    )
    found = {agent.id: agent for agent in map(_decode_agent, rows)}
    return [found[agent_id] for agent_id in ids]


async def _fetch(conn: aiosqlite.Connection, sql: Sql) -> list[aiosqlite.Row]:
    return list(await conn.execute_fetchall(sql.text, sql.parameters))


async def _count(conn: aiosqlite.Connection, matches: Sql) -> int:
    rows = await _fetch(conn, Sql("SELECT count(*) FROM (") + matches + Sql(")"))
    return int(rows[0][0])


# ------------------------------------------------------------------ facet counts


def _counted_by_status_alone(query: DiscoveryQuery) -> bool:
    """Whether the running counts answer ``query`` exactly: no words and at most one group,
    of statuses only."""
    if query.words or len(query.groups) > 1:
        return False
    return all(item.startswith(term("status", "")) for group in query.groups for item in group)


async def _running_counts(
    conn: aiosqlite.Connection, prefix: str, query: DiscoveryQuery
) -> dict[str, int]:
    statuses = allowed_statuses(query.groups)
    rows = await conn.execute_fetchall(
        "SELECT term, sum(n) FROM agent_term_counts WHERE term >= ? AND term < ?"
        " AND (?3 IS NULL OR status IN (SELECT value FROM json_each(?3))) GROUP BY term",
        (prefix, _after_prefix(prefix), None if statuses is None else json.dumps(sorted(statuses))),
    )
    return {stored[len(prefix) :]: n for stored, n in rows}


async def _sampled_counts(
    conn: aiosqlite.Connection, prefix: str, docs: Sequence[int]
) -> dict[str, int]:
    rows = await conn.execute_fetchall(
        "SELECT term, count(*) FROM agent_doc_terms"
        " WHERE doc IN (SELECT value FROM json_each(?)) AND term >= ? AND term < ?"
        " GROUP BY term",
        (json.dumps(list(docs)), prefix, _after_prefix(prefix)),
    )
    return {stored[len(prefix) :]: n for stored, n in rows}


def _after_prefix(prefix: str) -> str:
    """The least string greater than every string starting with ``prefix`` (``kind:``)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


# ------------------------------------------------------------------ bulk writes


async def _import_batch(conn: aiosqlite.Connection, agents: Sequence[AgentRecord]) -> None:
    stored = await insert_agents(conn, agents)
    await append_events(
        conn,
        [
            (AgentEvent("created", agent.id, agent.developer_id, agent.created_at, {}), agent)
            for agent in stored
        ],
    )
    await index_agents(conn, stored)


async def _reindex_batch(conn: aiosqlite.Connection, after_rowid: int) -> int | None:
    """Index the agents stored after ``after_rowid``, one batch of them; return the last
    rowid done, or None when there were none left."""
    rows = list(
        await conn.execute_fetchall(
            f"SELECT rowid, {_AGENT_COLUMNS} FROM agents WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (after_rowid, REBUILD_BATCH),
        )
    )
    if not rows:
        return None
    await index_agents(conn, [_decode_agent(row[1:]) for row in rows])
    return int(rows[-1][0])
