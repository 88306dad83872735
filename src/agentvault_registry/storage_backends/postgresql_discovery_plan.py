"""What a PostgreSQL discovery search asks of ``agent_search``, and how selective each part is.

A query becomes conditions on the rows of ``agent_search``, each a ``tsquery``: one per word
(on ``search_vector``) and one per term group (on ``terms``, the agent's terms as exact
lexemes: a group is a disjunction of them). Each carries the number of agents satisfying it,
read from the running counts, so the search can choose how to find its matches
(:mod:`~agentvault_registry.storage_backends.postgresql_discovery_scan`) before reading any.

Words are taken as PostgreSQL's english configuration normalizes them (``to_tsvector``), as
``plainto_tsquery`` would. A word no agent has at all, a typo or a fragment, is replaced by
the words of agents' names most like it (pg_trgm similarity, or containing it), matched in
names only; when there are none, nothing matches. A known word is never replaced, so fuzzy
matching never adds agents to a search whose words all occur somewhere.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentvault_registry.storage_backends.agents import DELETED, STATUSES
from agentvault_registry.storage_backends.discovery import DiscoveryQuery, term, term_value

if TYPE_CHECKING:
    import asyncpg

WORDS = "search_vector"
TERMS = "terms"
STATUS_TERMS = tuple(term("status", status) for status in STATUSES if status != DELETED)
#: How many names' words stand in for a word no agent has.
SIMILAR_WORDS = 5
#: Shorter fragments would take most of the vocabulary as containing them.
MIN_FRAGMENT = 3

_WORD_LEXEMES = """
SELECT word.position, lexeme, coalesce(counted.agents, 0) AS agents
FROM unnest($1::text[]) WITH ORDINALITY AS word (text, position)
CROSS JOIN LATERAL unnest(to_tsvector('english', word.text))
LEFT JOIN agent_word_counts AS counted ON counted.word = lexeme
"""
# Words of names only (names > 0): a stand-in is matched in names. The words are letters and
# digits (plain_words), so they carry no LIKE wildcard.
_SIMILAR_NAME_WORDS = f"""
SELECT word.position, stand_in.word, stand_in.agents, stand_in.names
FROM unnest($1::text[], $2::bigint[]) AS word (text, position)
CROSS JOIN LATERAL (
    SELECT candidate.word, candidate.agents, candidate.names
    FROM agent_word_counts AS candidate
    WHERE candidate.names > 0 AND (
        candidate.word % word.text
        OR (length(word.text) >= {MIN_FRAGMENT} AND candidate.word LIKE '%' || word.text || '%')
    )
    ORDER BY similarity(candidate.word, word.text) DESC, candidate.word
    LIMIT {SIMILAR_WORDS}
) AS stand_in
"""
_TERM_COUNTS = "SELECT term, status, agents FROM agent_term_counts WHERE term = ANY($1::text[])"


class Statement:
    """SQL text assembled from this package's fragments, its values numbered parameters."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


@dataclass(frozen=True)
class Condition:
    """A ``tsquery`` an ``agent_search`` row must match in a column: ``WORDS`` (its text) or
    ``TERMS`` (its terms)."""

    column: str
    query: str
    #: Agents satisfying it (for words: an estimate from the words' counts).
    agents: int
    #: Postings the GIN index reads to find them.
    postings: int


@dataclass(frozen=True)
class SearchPlan:
    conditions: tuple[Condition, ...]
    #: Indexed agents.
    population: int
    #: Every word as one ``tsquery``, to rank by; None without words.
    rank_query: str | None
    #: False when some word matches no agent, so that nothing can.
    satisfiable: bool
    #: Indexed agents per (term, status), for the terms of the query and every status term.
    term_counts: dict[str, dict[str, int]]

    @property
    def selectivity(self) -> float:
        """The share of indexed agents expected to match, conditions taken as independent."""
        if not self.population:
            return 0.0
        return math.prod(min(1.0, c.agents / self.population) for c in self.conditions)

    @property
    def expected_matches(self) -> float:
        return self.population * self.selectivity


async def plan_search(conn: asyncpg.Connection, query: DiscoveryQuery) -> SearchPlan:
    """The conditions of ``query`` with their counts, read on ``conn``."""
    group_terms = {item for group in query.groups for item in group}
    counts = await _term_counts(conn, group_terms | set(STATUS_TERMS))
    population = sum(counts[item].get(term_value("status", item), 0) for item in STATUS_TERMS)
    words = await _word_conditions(conn, query.words) if query.words else []
    known_words = [word for word in words if word is not None]
    return SearchPlan(
        conditions=(*(_group_condition(group, counts) for group in query.groups), *known_words),
        population=population,
        rank_query=" & ".join(f"({word.query})" for word in known_words) or None,
        satisfiable=len(known_words) == len(words),
        term_counts=counts,
    )


async def _term_counts(conn: asyncpg.Connection, terms: Iterable[str]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in await conn.fetch(_TERM_COUNTS, sorted(terms)):
        counts[row["term"]][row["status"]] = row["agents"]
    return counts


def _group_condition(group: tuple[str, ...], counts: dict[str, dict[str, int]]) -> Condition:
    # An agent with several terms of the group is counted once per term: an upper bound.
    agents = sum(sum(counts.get(item, {}).values()) for item in group)
    return Condition(TERMS, " | ".join(_quoted(item) for item in sorted(group)), agents, agents)


async def _word_conditions(
    conn: asyncpg.Connection, words: tuple[str, ...]
) -> list[Condition | None]:
    """The condition of each word that has lexemes (stop words have none); None for a word
    that nothing matches."""
    lexemes: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for row in await conn.fetch(_WORD_LEXEMES, list(words)):
        lexemes[row["position"]].append((row["lexeme"], row["agents"]))
    unknown = [position for position, found in lexemes.items() if not all(n for _, n in found)]
    stand_ins = await _similar_name_words(conn, words, unknown) if unknown else {}
    conditions: list[Condition | None] = []
    for position, found in sorted(lexemes.items()):
        if position in unknown:
            conditions.append(_stand_in_condition(stand_ins.get(position, [])))
        else:
            text = " & ".join(_quoted(lexeme) for lexeme, _ in found)
            agents = [n for _, n in found]
            conditions.append(Condition(WORDS, text, min(agents), sum(agents)))
    return conditions


async def _similar_name_words(
    conn: asyncpg.Connection, words: tuple[str, ...], positions: list[int]
) -> dict[int, list[tuple[str, int, int]]]:
    """For each word at ``positions`` (from 1): the words of names most like it, with the
    agents having each and the agents having it in their name."""
    rows = await conn.fetch(
        _SIMILAR_NAME_WORDS, [words[position - 1] for position in positions], positions
    )
    similar: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    for row in rows:
        similar[row["position"]].append((row["word"], row["agents"], row["names"]))
    return similar


def _stand_in_condition(similar: list[tuple[str, int, int]]) -> Condition | None:
    """Any of the ``similar`` words, in a name (weight A)."""
    if not similar:
        return None
    text = " | ".join(f"{_quoted(word)}:A" for word, _, _ in similar)
    names = sum(in_names for _, _, in_names in similar)
    return Condition(WORDS, text, names, sum(agents for _, agents, _ in similar))


def _quoted(lexeme: str) -> str:
    """``lexeme`` (a word or a term) as a quoted ``tsquery`` operand: nothing in it is
    syntax."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"
