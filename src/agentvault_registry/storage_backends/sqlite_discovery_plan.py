"""Planning a discovery query over the SQLite search index.

SQLite's own planner cannot know that ``capability:ocr`` has 40 agents and ``status:active``
900,000, nor that asking FTS5 about one agent costs as much as stepping through a hundred of
its matches (or twenty-five primary-key probes); so the statements are chosen here, from
sizes read per query:

- each group's size from the running counts (``agent_term_counts``), within the statuses the
  query asks for;
- the words' matches counted in the FTS5 index up to :data:`WORD_COUNT_CAP`, and beyond it
  estimated from how far into the index the counted ones reach.

The smallest of them **drives**: its agents are walked (in page order when it can be) and
every other condition is checked per agent, so a statement stops as soon as its ``LIMIT`` is
reached and never reads a large match set whole. A condition is checked per agent by an
index probe, except that a small set is read once into a lookup table when that is cheaper
than probing. Every value reaches SQLite as a parameter; the only names spliced into SQL
come from the fixed tables below.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from agentvault_registry.storage_backends.discovery import DiscoveryQuery, SortKey, term_value
from agentvault_registry.storage_backends.sqlite_accounts import _text

#: Word matches are counted up to here, and estimated beyond: counting every match of a
#: common word would cost more than the search.
WORD_COUNT_CAP = 5_000
#: A driving set this small is read whole and sorted, whatever the sort order.
SORT_IN_MEMORY_LIMIT = 2_000
#: A condition matching at most this many agents is read once into a lookup table instead
#: of being probed per agent (building costs about a fifth of a probe per agent).
LOOKUP_TABLE_LIMIT = 20_000
#: What asking FTS5 whether one agent matches costs, in steps through FTS5 matches (about
#: 20 µs against 0.2 µs, measured at 1,000,000 agents).
FTS_PROBE_COST = 100
#: The relevance weights of the FTS5 columns name, keywords and description.
BM25 = "bm25(agents_fts, 10.0, 4.0, 1.0)"

#: sort -> (agent_search column, direction, index walked in that order).
SORT_ORDERS = {
    "created_at": ("created_at", "DESC", "agent_search_created_at"),
    "updated_at": ("updated_at", "DESC", "agent_search_updated_at"),
    "name": ("name", "ASC", "agent_search_name"),
}
_STATUS_KIND = "status"


@dataclass(frozen=True)
class Sql:
    text: str
    parameters: tuple[Any, ...] = ()

    def __add__(self, other: Sql) -> Sql:
        return Sql(self.text + other.text, self.parameters + other.parameters)


def join(pieces: Sequence[Sql], separator: str) -> Sql:
    return Sql(
        separator.join(piece.text for piece in pieces),
        tuple(parameter for piece in pieces for parameter in piece.parameters),
    )


def fts_query(words: Sequence[str]) -> str:
    """Every word as an FTS5 string (implicit AND): plain words are never read as syntax."""
    return " ".join('"{}"'.format(word.replace('"', '""')) for word in words)


@dataclass(frozen=True)
class Sizes:
    #: Agents per group, estimated from the running counts (an agent with two terms of one
    #: group counts twice), within the statuses the query allows.
    groups: tuple[int, ...]
    #: Agents matching the words, exact below :data:`WORD_COUNT_CAP` and estimated beyond;
    #: 0 without words.
    words: int


@dataclass(frozen=True)
class QueryPlan:
    query: DiscoveryQuery
    sizes: Sizes

    # ------------------------------------------------------------------ choices

    @property
    def matches_nothing(self) -> bool:
        """Whether the sizes alone prove there is no match (the counts of terms are exact)."""
        return 0 in self.sizes.groups or (bool(self.query.words) and self.sizes.words == 0)

    @property
    def driving_group(self) -> int | None:
        """The smallest group, whose postings a walk follows."""
        groups = self.sizes.groups
        return min(range(len(groups)), key=groups.__getitem__) if groups else None

    @property
    def words_drive(self) -> bool:
        """Whether to walk the words' FTS5 matches rather than the driving group's postings.

        Stepping through FTS5 matches is cheap, asking FTS5 about one agent is not (see
        :data:`FTS_PROBE_COST`), so the words drive unless a group is that much smaller than
        their matches."""
        group = self.driving_group
        if not self.query.words or group is None:
            return bool(self.query.words)
        return self.sizes.groups[group] * FTS_PROBE_COST >= self.sizes.words

    @property
    def _words_few_and_fewest(self) -> bool:
        """Whether the words' matches are few enough to read whole and sort, and fewer than
        any group's agents."""
        return bool(self.query.words) and self.sizes.words <= min(
            (SORT_IN_MEMORY_LIMIT, *self.sizes.groups)
        )

    def _fts_lookup_group(self) -> int | None:
        """The group an FTS5 walk tests against a lookup table, if any: the smallest, when it
        is small and smaller than the words' matches (most matches then fail it)."""
        group = self.driving_group
        if group is None:
            return None
        size = self.sizes.groups[group]
        return group if size <= LOOKUP_TABLE_LIMIT and size < self.sizes.words else None

    # --------------------------------------------------------------- statements

    def ranked_candidates(self, rank_limit: int) -> Sql:
        """Up to ``rank_limit + 1`` matches, most recently indexed first, with their scores:
        ``(agent_id, created_at, score)``, higher scores better."""
        return (
            Sql(f"SELECT m.agent_id, m.created_at, -{BM25}")
            + self._fts_walk(joined=True)
            + Sql(" ORDER BY agents_fts.rowid DESC LIMIT ?", (rank_limit + 1,))
        )

    def matches(self, limit: int) -> Sql:
        """Up to ``limit`` matching agents' docs, in no particular order: for counting."""
        if self.words_drive:
            return Sql("SELECT agents_fts.rowid") + self._fts_walk() + Sql(" LIMIT ?", (limit,))
        return Sql("SELECT doc FROM (") + self.page("created_at", None, limit, 0) + Sql(")")

    def page(self, sort: str, after: SortKey | None, limit: int, offset: int) -> Sql:
        """``(agent_id, sort_value, doc)`` of the matches in ``sort`` order after ``after``."""
        column, direction, index = SORT_ORDERS[sort]
        keyset = [] if after is None else [_keyset(column, direction, after)]
        order = Sql(
            f" ORDER BY sort_value {direction}, agent_id {direction} LIMIT ? OFFSET ?",
            (limit, offset),
        )
        if self._words_few_and_fewest:
            return Sql(_page_columns(column)) + self._fts_walk(keyset, joined=True) + order
        group = self.driving_group
        if group is not None and sort == "created_at":
            return self._postings_walk(group, keyset) + order
        if group is not None and self.sizes.groups[group] <= SORT_IN_MEMORY_LIMIT:
            return self._postings_read(group, column, keyset) + order
        checks = self._checks(keyset, skip_group=None)
        walk = Sql(f"{_page_columns(column)} FROM agent_search m INDEXED BY {index}")
        return walk + _where(checks) + order

    # ------------------------------------------------------------------- walks

    def _fts_walk(self, extra: Sequence[Sql] = (), *, joined: bool = False) -> Sql:
        """FROM and WHERE of the words' matches, driven by FTS5; ``joined`` to agent_search
        (as ``m``) for the columns FTS5 lacks, which only the agents passing every probe of
        their doc are looked up for."""
        lookup = self._fts_lookup_group()
        conditions = [Sql("agents_fts MATCH ?", (fts_query(self.query.words),))]
        if lookup is not None:
            # "+": were FTS5 offered the rowids, it would run the whole query once per rowid.
            conditions.append(_group_lookup("+agents_fts.rowid", self.query.groups[lookup]))
        conditions += self._group_probes("agents_fts.rowid", skip_group=lookup)
        tables = " FROM agents_fts"
        if joined:
            tables += " CROSS JOIN agent_search m ON m.doc = agents_fts.rowid"
        return Sql(tables) + _where([*conditions, *extra])

    def _postings_walk(self, group: int, keyset: Sequence[Sql]) -> Sql:
        """The matches in created_at order, walking the driving group's postings: one ordered
        range per term, merged by SQLite (UNION also drops an agent's second posting)."""
        checks = self._checks(keyset, skip_group=group)
        arms = [
            Sql(f"{_page_columns('created_at')} FROM agent_terms m")
            + _where([Sql("m.term = ?", (term,)), *checks])
            for term in self.query.groups[group]
        ]
        return join(arms, " UNION ")

    def _postings_read(self, group: int, column: str, keyset: Sequence[Sql]) -> Sql:
        """The matches of a small driving group, read whole to be sorted by ``column``."""
        terms = self.query.groups[group]
        conditions = [_in("d.term", terms), *self._checks(keyset, skip_group=group)]
        return Sql(
            f"{_page_columns(column, distinct=True)}"
            " FROM agent_terms d CROSS JOIN agent_search m ON m.doc = d.doc"
        ) + _where(conditions)

    def _checks(self, keyset: Sequence[Sql], *, skip_group: int | None) -> list[Sql]:
        """Every condition but the driving group's, for a walk over alias ``m``, cheapest
        first (SQLite tests them in this order and stops at the first that fails): the keyset,
        a lookup in the words' matches, the groups smallest first, a probe of FTS5."""
        words = [self._words_check("m.doc")] if self.query.words else []
        return [
            *keyset,
            *(words if self._words_in_lookup_table else []),
            *self._group_probes("m.doc", skip_group=skip_group),
            *([] if self._words_in_lookup_table else words),
        ]

    def _group_probes(self, doc: str, *, skip_group: int | None) -> list[Sql]:
        """A probe of ``doc`` per group but ``skip_group``, smallest first: the likeliest
        to fail."""
        others = [number for number in range(len(self.query.groups)) if number != skip_group]
        others.sort(key=self.sizes.groups.__getitem__)
        return [_group_probe(doc, self.query.groups[number]) for number in others]

    @property
    def _words_in_lookup_table(self) -> bool:
        return self.sizes.words <= LOOKUP_TABLE_LIMIT

    def _words_check(self, doc: str) -> Sql:
        phrase = fts_query(self.query.words)
        if self._words_in_lookup_table:
            return Sql(
                f"{doc} IN (SELECT rowid FROM agents_fts WHERE agents_fts MATCH ?)", (phrase,)
            )
        return Sql(
            f"EXISTS (SELECT 1 FROM agents_fts WHERE agents_fts MATCH ? AND rowid = {doc})",
            (phrase,),
        )


# ---------------------------------------------------------------------- sizing


async def plan_query(conn: aiosqlite.Connection, query: DiscoveryQuery) -> QueryPlan:
    """Size every condition of ``query`` and plan it."""
    words = await _count_word_matches(conn, query.words) if query.words else 0
    return QueryPlan(query, Sizes(await _group_sizes(conn, query.groups), words))


async def _count_word_matches(conn: aiosqlite.Connection, words: Sequence[str]) -> int:
    """The words' matches: counted up to the cap, in doc order; beyond it, the counted share
    of the docs scaled to all of them (matches spread evenly over the docs)."""
    rows = await conn.execute_fetchall(
        "SELECT count(*), max(rowid), (SELECT max(doc) FROM agent_search) FROM"
        " (SELECT rowid FROM agents_fts WHERE agents_fts MATCH ? LIMIT ?)",
        (fts_query(words), WORD_COUNT_CAP),
    )
    counted, last_doc, docs = next(iter(rows))
    if counted < WORD_COUNT_CAP:
        return int(counted)
    return max(counted, counted * docs // last_doc)


async def _group_sizes(
    conn: aiosqlite.Connection, groups: Sequence[Sequence[str]]
) -> tuple[int, ...]:
    if not groups:
        return ()
    statuses = allowed_statuses(groups)
    rows = await conn.execute_fetchall(
        "SELECT term, status, n FROM agent_term_counts"
        " WHERE term IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted({term for group in groups for term in group})),),
    )
    counts: dict[str, int] = {}
    for term, status, n in rows:
        if statuses is None or status in statuses:
            counts[term] = counts.get(term, 0) + n
    return tuple(sum(counts.get(term, 0) for term in group) for group in groups)


def allowed_statuses(groups: Sequence[Sequence[str]]) -> frozenset[str] | None:
    """The statuses the query's status-only groups allow together; None when unrestricted."""
    allowed: frozenset[str] | None = None
    for group in groups:
        if all(term.startswith(f"{_STATUS_KIND}:") for term in group):
            values = frozenset(term_value(_STATUS_KIND, term) for term in group)
            allowed = values if allowed is None else allowed & values
    return allowed


# --------------------------------------------------------------- SQL fragments


def _page_columns(column: str, *, distinct: bool = False) -> str:
    # Named, so ORDER BY means these whichever tables the statement joins.
    return (
        f"SELECT {'DISTINCT ' if distinct else ''}m.agent_id AS agent_id,"
        f" m.{column} AS sort_value, m.doc AS doc"
    )


def _where(conditions: Sequence[Sql]) -> Sql:
    return Sql(" WHERE ") + join(conditions, " AND ") if conditions else Sql("")


def _in(column: str, values: Sequence[Any]) -> Sql:
    if len(values) == 1:
        return Sql(f"{column} = ?", tuple(values))
    return Sql(f"{column} IN ({', '.join('?' * len(values))})", tuple(values))


def _group_probe(doc: str, group: Sequence[str]) -> Sql:
    """Whether the agent of ``doc`` has a term of ``group``: primary-key probes."""
    return Sql(f"EXISTS (SELECT 1 FROM agent_doc_terms p WHERE p.doc = {doc} AND ") + (
        _in("p.term", group) + Sql(")")
    )


def _group_lookup(doc: str, group: Sequence[str]) -> Sql:
    """Whether ``doc`` has a term of ``group``, against the group's docs read once."""
    return Sql(f"{doc} IN (SELECT doc FROM agent_terms WHERE ") + _in("term", group) + Sql(")")


def _keyset(column: str, direction: str, after: SortKey) -> Sql:
    value, agent_id = after
    stored = value if column == "name" else _text(value)
    operator = "<" if direction == "DESC" else ">"
    return Sql(f"(m.{column}, m.agent_id) {operator} (?, ?)", (stored, agent_id))
