"""Writing the SQLite search index (schema: migration ``0005_discovery.sql``).

Every write brings the index of some agents up to date inside the caller's write
transaction: their ``agent_search`` rows (whose triggers keep the FTS5 table in step), their
terms by doc (``agent_doc_terms``) and by term (``agent_terms``, the postings) and the running
counts (``agent_term_counts``). What changes is the difference between each agent's indexed
state, read back from the index, and the agent as it is now; so one path serves a new agent,
an update, a tombstone and a rebuild, and running it twice changes nothing.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiosqlite

from agentvault_registry.storage_backends.agents import AgentRecord
from agentvault_registry.storage_backends.discovery import agent_terms, agent_text, indexed
from agentvault_registry.storage_backends.sqlite_accounts import _text

_SEARCH_COLUMNS = "created_at, updated_at, name, keywords, description, status"

Rows = list[tuple[object, ...]]


@dataclass(frozen=True)
class IndexedState:
    """An agent as the index has it now."""

    doc: int
    created_at: str
    status: str
    terms: frozenset[str]


@dataclass
class IndexChanges:
    """The statements that bring a batch of agents' index up to date, gathered so each kind
    runs once as an ``executemany``."""

    next_doc: int
    inserted: Rows = field(default_factory=list)
    updated: Rows = field(default_factory=list)
    removed: Rows = field(default_factory=list)
    added_doc_terms: Rows = field(default_factory=list)
    removed_doc_terms: Rows = field(default_factory=list)
    added_postings: Rows = field(default_factory=list)
    removed_postings: Rows = field(default_factory=list)
    count_deltas: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, agent: AgentRecord, before: IndexedState | None) -> None:
        """Record what changes for ``agent``, whose index now says ``before``."""
        created_at = _text(agent.created_at)
        doc = self._search_row(agent, created_at, before)
        if doc is None:
            return
        terms = agent_terms(agent) if indexed(agent) else frozenset()
        old_terms = before.terms if before is not None else frozenset()
        self.removed_doc_terms += [(doc, term) for term in old_terms - terms]
        self.added_doc_terms += [(doc, term) for term in terms - old_terms]
        # A posting's key holds created_at: should it differ, every posting moves.
        old_keys = {(term, before.created_at) for term in old_terms} if before else set()
        new_keys = {(term, created_at) for term in terms}
        self.removed_postings += [(term, at, agent.id) for term, at in old_keys - new_keys]
        self.added_postings += [(term, at, agent.id, doc) for term, at in new_keys - old_keys]
        if before is not None:
            self.count_deltas.subtract((term, before.status) for term in old_terms)
        self.count_deltas.update((term, agent.status) for term in terms)

    def _search_row(
        self, agent: AgentRecord, created_at: str, before: IndexedState | None
    ) -> int | None:
        """Insert, update or remove ``agent``'s ``agent_search`` row; return its doc, None
        for a tombstone that was never indexed."""
        if not indexed(agent):
            if before is not None:
                self.removed.append((before.doc,))
            return None if before is None else before.doc
        text = agent_text(agent)
        row = (
            created_at,
            _text(agent.updated_at),
            agent.name,
            text.keywords,
            text.description,
            agent.status,
        )
        if before is not None:
            self.updated.append((*row, before.doc))
            return before.doc
        doc = self.next_doc
        self.next_doc += 1
        self.inserted.append((doc, agent.id, *row))
        return doc

    async def apply(self, conn: aiosqlite.Connection) -> None:
        deltas = [(delta, term, status) for (term, status), delta in self.count_deltas.items()]
        # Deletions first: a doc or a posting key freed here may be taken again below.
        # Decrements apart from increments: an upsert checks the row it would insert (n < 0)
        # before it notices the conflict.
        statements: list[tuple[str, Rows]] = [
            ("DELETE FROM agent_search WHERE doc = ?", self.removed),
            ("DELETE FROM agent_doc_terms WHERE doc = ? AND term = ?", self.removed_doc_terms),
            (
                "DELETE FROM agent_terms WHERE term = ? AND created_at = ? AND agent_id = ?",
                self.removed_postings,
            ),
            (
                f"INSERT INTO agent_search (doc, agent_id, {_SEARCH_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                self.inserted,
            ),
            (
                f"UPDATE agent_search SET ({_SEARCH_COLUMNS}) = (?, ?, ?, ?, ?, ?) WHERE doc = ?",
                self.updated,
            ),
            ("INSERT INTO agent_doc_terms (doc, term) VALUES (?, ?)", self.added_doc_terms),
            (
                "INSERT INTO agent_terms (term, created_at, agent_id, doc) VALUES (?, ?, ?, ?)",
                self.added_postings,
            ),
            (
                "UPDATE agent_term_counts SET n = n + ? WHERE term = ? AND status = ?",
                [row for row in deltas if row[0] < 0],
            ),
            (
                "INSERT INTO agent_term_counts (n, term, status) VALUES (?, ?, ?)"
                " ON CONFLICT (term, status) DO UPDATE SET n = n + excluded.n",
                [row for row in deltas if row[0] > 0],
            ),
        ]
        for sql, rows in statements:
            if rows:
                await conn.executemany(sql, rows)


async def index_agent(conn: aiosqlite.Connection, agent: AgentRecord) -> None:
    """Bring ``agent``'s index up to date, inside the caller's write transaction."""
    await index_agents(conn, [agent])


async def index_agents(conn: aiosqlite.Connection, agents: Sequence[AgentRecord]) -> None:
    """Bring the index of ``agents`` (distinct agents) up to date, inside the caller's write
    transaction."""
    if not agents:
        return
    changes = IndexChanges(next_doc=await _next_doc(conn))
    before = await _indexed_states(conn, [agent.id for agent in agents])
    for agent in agents:
        changes.add(agent, before.get(agent.id))
    await changes.apply(conn)


async def _next_doc(conn: aiosqlite.Connection) -> int:
    # Read under the write lock, so no other writer can take the same doc meanwhile.
    rows = await conn.execute_fetchall("SELECT coalesce(max(doc), 0) + 1 FROM agent_search")
    return int(next(iter(rows))[0])


async def _indexed_states(
    conn: aiosqlite.Connection, agent_ids: Sequence[str]
) -> dict[str, IndexedState]:
    searched = await conn.execute_fetchall(
        "SELECT agent_id, doc, created_at, status FROM agent_search"
        " WHERE agent_id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(agent_ids)),),
    )
    if not searched:
        return {}
    terms: defaultdict[int, set[str]] = defaultdict(set)
    for doc, term in await conn.execute_fetchall(
        "SELECT doc, term FROM agent_doc_terms WHERE doc IN (SELECT value FROM json_each(?))",
        (json.dumps([row[1] for row in searched]),),
    ):
        terms[doc].add(term)
    return {
        agent_id: IndexedState(doc, created_at, status, frozenset(terms[doc]))
        for agent_id, doc, created_at, status in searched
    }
