"""Writing the PostgreSQL search index (schema: migration ``0005_discovery.sql``).

Every agent write brings its ``agent_search`` row and the running counts up to date inside
the writer's transaction, which already holds the event lock: writers of the counts are
serialized. The counts change by the difference between what the index held for the agent
and what it holds now, so one path serves a new agent, an update and a tombstone.

The weighted text is computed by PostgreSQL (``to_tsvector('english', ...)``) from the
:func:`~agentvault_registry.storage_backends.discovery.agent_text` Python derives, so the
rules of what is searchable live in one place. Text is put in Unicode normal form NFKC first,
as :func:`~agentvault_registry.storage_backends.discovery.plain_words` does with queries.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import astuple
from typing import TYPE_CHECKING, Any

from agentvault_registry.storage_backends.agents import AgentRecord
from agentvault_registry.storage_backends.discovery import agent_terms, agent_text, indexed

if TYPE_CHECKING:
    import asyncpg

#: Longest term kept as it is. PostgreSQL caps a lexeme at 2 KiB and a btree key at about
#: 2.7 kB; a longer term (a huge extension URI) is kept as its kind and the value's digest.
MAX_TERM_BYTES = 1_000

#: The weighted text of an agent from its name, keywords and description ({} are filled in).
_VECTOR = (
    "setweight(to_tsvector('english', {}), 'A')"
    " || setweight(to_tsvector('english', {}), 'B')"
    " || setweight(to_tsvector('english', {}), 'C')"
)
#: How the lexemes of the rows in CTE ``{source}`` change the word counts, ``{sign}`` each.
_WORD_CHANGES = """
    SELECT lexeme, {sign} AS agents, CASE WHEN 'A' = ANY (weights) THEN {sign} ELSE 0 END AS names
    FROM {source}, unnest({source}.search_vector)
"""
_ADD_WORD_CHANGES = """
    INSERT INTO agent_word_counts AS counted (word, agents, names)
    SELECT lexeme, sum(agents), sum(names) FROM ({changes}) AS changes GROUP BY lexeme
    ON CONFLICT (word) DO UPDATE
        SET agents = counted.agents + excluded.agents, names = counted.names + excluded.names
"""
_SEARCH_COLUMNS = "agent_id, status, created_at, updated_at, name, terms, search_vector"
# One statement: ``previous`` sees the row as it was before ``latest`` replaced it, so the
# word counts change by the difference; the previous status and terms go back to Python.
_UPSERT = f"""
WITH previous AS (
    SELECT status, terms, search_vector FROM agent_search WHERE agent_id = $1
), latest AS (
    INSERT INTO agent_search ({_SEARCH_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, array_to_tsvector($6), {_VECTOR.format("$7", "$8", "$9")})
    ON CONFLICT (agent_id) DO UPDATE SET
        status = excluded.status, updated_at = excluded.updated_at, name = excluded.name,
        terms = excluded.terms, search_vector = excluded.search_vector
    RETURNING search_vector
), words AS ({
    _ADD_WORD_CHANGES.format(
        changes=_WORD_CHANGES.format(sign=-1, source="previous")
        + " UNION ALL "
        + _WORD_CHANGES.format(sign=1, source="latest")
    )
})
SELECT status, tsvector_to_array(terms) AS terms FROM previous
"""
_REMOVE = f"""
WITH previous AS (
    DELETE FROM agent_search WHERE agent_id = $1 RETURNING status, terms, search_vector
), words AS ({_ADD_WORD_CHANGES.format(changes=_WORD_CHANGES.format(sign=-1, source="previous"))})
SELECT status, tsvector_to_array(terms) AS terms FROM previous
"""
_ADD_TERM_CHANGES = """
INSERT INTO agent_term_counts AS counted (term, status, agents)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
ON CONFLICT (term, status) DO UPDATE SET agents = counted.agents + excluded.agents
"""
#: A batch's rows wait here (one transaction) until PostgreSQL computes their weighted text.
_STAGING_TABLE = "agent_search_staged"
_STAGING_COLUMNS = (
    "agent_id",
    "status",
    "created_at",
    "updated_at",
    "name",
    "terms",
    "name_text",
    "keywords",
    "description",
)
_CREATE_STAGING = f"""
CREATE TEMPORARY TABLE {_STAGING_TABLE} (
    agent_id text, status text, created_at timestamptz, updated_at timestamptz, name text,
    terms text[], name_text text, keywords text, description text
)
"""
# In creation order, so that seq, and with it the table's physical order, follows it.
_INDEX_STAGED = f"""
WITH latest AS (
    INSERT INTO agent_search ({_SEARCH_COLUMNS})
    SELECT agent_id, status, created_at, updated_at, name, array_to_tsvector(terms),
        {_VECTOR.format("name_text", "keywords", "description")}
    FROM {_STAGING_TABLE} ORDER BY created_at, agent_id
    RETURNING search_vector
), words AS ({_ADD_WORD_CHANGES.format(changes=_WORD_CHANGES.format(sign=1, source="latest"))})
INSERT INTO agent_term_counts AS counted (term, status, agents)
SELECT term, status, count(*) FROM {_STAGING_TABLE}, unnest(terms) AS term GROUP BY term, status
ON CONFLICT (term, status) DO UPDATE SET agents = counted.agents + excluded.agents
"""


async def index_agent(conn: asyncpg.Connection, agent: AgentRecord) -> None:
    """Bring the index of ``agent`` (as just stored) up to date on ``conn``, inside the
    caller's transaction, which must hold the event lock."""
    if indexed(agent):
        previous = await conn.fetchrow(_UPSERT, *_search_row(agent))
    else:
        previous = await conn.fetchrow(_REMOVE, agent.id)
    changes: Counter[tuple[str, str]] = Counter()
    if previous is not None:
        changes.subtract((term, previous["status"]) for term in previous["terms"])
    if indexed(agent):
        changes.update((term, agent.status) for term in stored_terms(agent))
    await _add_term_changes(conn, changes)


async def index_new_agents(conn: asyncpg.Connection, agents: Iterable[AgentRecord]) -> None:
    """Index ``agents``, none of which is indexed yet, in bulk (COPY), inside the caller's
    transaction, which must hold the event lock. Tombstones are skipped."""
    await conn.execute(_CREATE_STAGING)
    rows = (_search_row(agent) for agent in agents if indexed(agent))
    await conn.copy_records_to_table(_STAGING_TABLE, records=rows, columns=_STAGING_COLUMNS)
    await conn.execute(_INDEX_STAGED)
    await conn.execute(f"DROP TABLE {_STAGING_TABLE}")
    # The new rows' pages are not in the BRIN index of seq until a range is summarized; so
    # many at once would otherwise wait for autovacuum, and until then a look-up confined to
    # the newest rows reads every one of those pages. (It summarizes rows of open
    # transactions too: the summary only has to cover them.)
    await conn.execute("SELECT brin_summarize_new_values('agent_search_seq_ranges')")


def stored_terms(agent: AgentRecord) -> list[str]:
    """The terms of ``agent`` as the index keeps them (see :func:`stored_term`)."""
    return sorted({stored_term(item) for item in agent_terms(agent)})


def stored_term(item: str) -> str:
    """``item`` as the index keeps it: itself, or if longer than :data:`MAX_TERM_BYTES`,
    its kind and the SHA-256 of its value."""
    if len(item.encode()) <= MAX_TERM_BYTES:
        return item
    kind, _, value = item.partition(":")
    return f"{kind}:sha256:{hashlib.sha256(value.encode()).hexdigest()}"


async def _add_term_changes(
    conn: asyncpg.Connection, changes: Mapping[tuple[str, str], int]
) -> None:
    changed = [(item, status, delta) for (item, status), delta in changes.items() if delta]
    if changed:
        terms, statuses, deltas = (list(column) for column in zip(*changed, strict=True))
        await conn.execute(_ADD_TERM_CHANGES, terms, statuses, deltas)


def _search_row(agent: AgentRecord) -> Sequence[Any]:
    """The ``agent_search`` columns of ``agent`` and the text its weighted text is made of,
    in the order of ``_STAGING_COLUMNS``."""
    text = agent_text(agent)
    return (
        agent.id,
        agent.status,
        agent.created_at,
        agent.updated_at,
        agent.name,
        stored_terms(agent),
        *(unicodedata.normalize("NFKC", part) for part in astuple(text)),
    )
