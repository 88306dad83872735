"""Writing the SQLite search index (schema: migration ``0005_discovery.sql``).

Every write brings the index of some agents up to date inside the caller's write
transaction: their ``agent_search`` rows (whose triggers keep the FTS5 table in step), their
postings in ``agent_terms`` and the running counts in ``agent_term_counts``. What changes is
the difference between each agent's indexed state (read back from ``agent_search``) and the
agent as it is now, so one path serves a new agent, an update, a tombstone and a rebuild, and
running it twice changes nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiosqlite

from agentvault_registry.storage_backends.agents import AgentRecord
from agentvault_registry.storage_backends.discovery import agent_terms, agent_text, indexed
from agentvault_registry.storage_backends.sqlite_accounts import _text

_SEARCH_COLUMNS = "created_at, updated_at, name, keywords, description, status, terms"


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
    inserted: list[tuple[object, ...]] = field(default_factory=list)
    updated: list[tuple[object, ...]] = field(default_factory=list)
    removed: list[tuple[int]] = field(default_factory=list)
    added_postings: list[tuple[str, str, str, int]] = field(default_factory=list)
    removed_postings: list[tuple[str, str, str]] = field(default_factory=list)
    count_deltas: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, agent: AgentRecord, before: IndexedState | None) -> None:
        """Record what changes for ``agent``, whose index now says ``before``."""
        if before is not None:
            self.count_deltas.subtract((term, before.status) for term in before.terms)
        if not indexed(agent):
            if before is not None:
                self.removed.append((before.doc,))
                self._remove_postings(agent.id, before, before.terms)
            return
        terms = agent_terms(agent)
        created_at = _text(agent.created_at)
        row = _search_row(agent, created_at, terms)
        if before is None:
            doc = self.next_doc
            self.next_doc += 1
            self.inserted.append((doc, agent.id, *row))
            new_terms = terms
        else:
            doc = before.doc
            self.updated.append((*row, doc))
            # A posting's key holds created_at: should that differ, every posting moves.
            kept = terms & before.terms if created_at == before.created_at else frozenset()
            self._remove_postings(agent.id, before, before.terms - kept)
            new_terms = terms - kept
        self.added_postings.extend((term, created_at, agent.id, doc) for term in new_terms)
        self.count_deltas.update((term, agent.status) for term in terms)

    def _remove_postings(self, agent_id: str, before: IndexedState, terms: frozenset[str]) -> None:
        self.removed_postings.extend((term, before.created_at, agent_id) for term in terms)

    async def apply(self, conn: aiosqlite.Connection) -> None:
        # Deletions first: a doc or a posting key freed here may be taken again below.
        await conn.executemany("DELETE FROM agent_search WHERE doc = ?", self.removed)
        await conn.executemany(
            "DELETE FROM agent_terms WHERE term = ? AND created_at = ? AND agent_id = ?",
            self.removed_postings,
        )
        await conn.executemany(
            f"INSERT INTO agent_search (doc, agent_id, {_SEARCH_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.inserted,
        )
        await conn.executemany(
            f"UPDATE agent_search SET ({_SEARCH_COLUMNS}) = (?, ?, ?, ?, ?, ?, ?) WHERE doc = ?",
            self.updated,
        )
        await conn.executemany(
            "INSERT INTO agent_terms (term, created_at, agent_id, doc) VALUES (?, ?, ?, ?)",
            self.added_postings,
        )
        # Decrements apart: an upsert checks its would-be row (n < 0) before the conflict.
        deltas = [(delta, term, status) for (term, status), delta in self.count_deltas.items()]
        await conn.executemany(
            "UPDATE agent_term_counts SET n = n + ? WHERE term = ? AND status = ?",
            [row for row in deltas if row[0] < 0],
        )
        await conn.executemany(
            "INSERT INTO agent_term_counts (n, term, status) VALUES (?, ?, ?)"
            " ON CONFLICT (term, status) DO UPDATE SET n = n + excluded.n",
            [row for row in deltas if row[0] > 0],
        )


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
    rows = await conn.execute_fetchall(
        "SELECT agent_id, doc, created_at, status, terms FROM agent_search"
        " WHERE agent_id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(agent_ids)),),
    )
    return {
        agent_id: IndexedState(doc, created_at, status, frozenset(json.loads(terms)))
        for agent_id, doc, created_at, status, terms in rows
    }


def _search_row(agent: AgentRecord, created_at: str, terms: frozenset[str]) -> tuple[object, ...]:
    """The ``agent_search`` values of ``agent`` in ``_SEARCH_COLUMNS`` order."""
    text = agent_text(agent)
    return (
        created_at,
        _text(agent.updated_at),
        agent.name,
        text.keywords,
        text.description,
        agent.status,
        json.dumps(sorted(terms)),
    )
