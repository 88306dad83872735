"""Finding matches of a PostgreSQL discovery search at a bounded cost, and a page of them.

Two ways to find matches, chosen by estimated cost from the plan's counts:

- **walk** an index in the order wanted (``seq`` for the newest matches, a sort's index for a
  page) and test each row in place; cheap per row, but a rare match means many rows. A walk
  reads at most a budget of rows (an inner ``LIMIT``, which also keeps the planner on the
  ordered index), and what it did not reach is left to the other way;
- **look up** the rows satisfying the most selective conditions in the GIN index and test the
  rest on the rows fetched; the cost grows with the postings read and rows fetched, not with
  the table.

So a common word walks a few thousand rows, a rare one reads its few postings, and no plan
sorts or counts a common term's whole match set. ``OFFSET 0`` keeps the planner from pushing
the conditions meant as filters into a look-up's index scan. The newest matches (relevance,
totals) are found the same two ways, range by range
(:mod:`~agentvault_registry.storage_backends.postgresql_discovery_newest`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentvault_registry.storage_backends.discovery import SortKey
from agentvault_registry.storage_backends.postgresql_discovery_plan import (
    TERMS,
    WORDS,
    Condition,
    SearchPlan,
    Statement,
)

if TYPE_CHECKING:
    import asyncpg

# Rough costs in microseconds per row or posting, measured at a million agents on two cores:
# a row of an ordered walk (the heap follows seq and creation order), a row fetched at random,
# and a GIN posting read (0.005 alone, up to 0.02 when several keys intersect).
WALK_ROW = 0.4
FETCH_ROW = 2.5
POSTING = 0.01
#: Walk budgets are this many times the rows expected to hold the matches wanted.
WALK_MARGIN = 2.0
#: No walk reads more rows than this before the look-up takes over.
MAX_WALK = 50_000
#: A look-up window is this many times the seq range expected to hold the matches wanted.
WINDOW_MARGIN = 1.2
_ROW_COLUMNS = "seq, agent_id, created_at, updated_at, name, terms, search_vector"


@dataclass(frozen=True)
class Order:
    """A keyset order of ``agent_search``: its columns and direction."""

    column: str
    descending: bool
    #: Whether rows can tie on the column, so that agent_id must break ties.
    ties: bool = True

    @property
    def sql(self) -> str:
        direction = " DESC" if self.descending else ""
        tie_break = f", agent_id{direction}" if self.ties else ""
        return f"{self.column}{direction}{tie_break}"

    def after(self, statement: Statement, key: SortKey) -> str:
        """Rows after the keyset position ``key``."""
        operator = "<" if self.descending else ">"
        value, agent_id = statement.add(key[0]), statement.add(key[1])
        return f"({self.column}, agent_id) {operator} ({value}, {agent_id})"


ORDERS = {
    "created_at": Order("created_at", descending=True),
    "updated_at": Order("updated_at", descending=True),
    "name": Order("name", descending=False),
}
NEWEST = Order("seq", descending=True, ties=False)


@dataclass(frozen=True)
class LookUp:
    """The conditions a look-up finds in the GIN index, the rest tested on its rows."""

    indexed: tuple[Condition, ...]
    tested: tuple[Condition, ...]
    #: Rows the indexed conditions are expected to give, and the cost of finding them.
    rows: float
    postings_cost: float


def look_up(plan: SearchPlan) -> LookUp | None:
    """The look-up of ``plan``: its most selective condition, joined by each next one whose
    postings cost less to read than the rows they spare fetching; None without conditions."""
    if not plan.conditions:
        return None
    first, *others = sorted(plan.conditions, key=lambda condition: condition.agents)
    indexed, tested = [first], []
    rows = float(first.agents)
    postings_cost = first.postings * POSTING
    for condition in others:
        share = min(1.0, condition.agents / max(plan.population, 1))
        if condition.postings * POSTING < rows * (1 - share) * FETCH_ROW:
            indexed.append(condition)
            rows *= share
            postings_cost += condition.postings * POSTING
        else:
            tested.append(condition)
    return LookUp(tuple(indexed), tuple(tested), rows, postings_cost)


async def page_in_order(
    conn: asyncpg.Connection, plan: SearchPlan, order: Order, after: SortKey | None, wanted: int
) -> list[str]:
    """Ids of up to ``wanted`` matches in ``order``, after the keyset position ``after``."""
    rows_to_scan = wanted / max(plan.selectivity, 1 / max(plan.population, 1))
    per_row = WALK_ROW if order is ORDERS["created_at"] else FETCH_ROW
    lookup = look_up(plan)
    if (
        lookup is not None
        and lookup.postings_cost + lookup.rows * FETCH_ROW < min(rows_to_scan, MAX_WALK) * per_row
    ):
        return await _look_up_page(conn, lookup, order, after, wanted)
    if lookup is None:
        # Without conditions every row matches: the walk reads just the rows wanted.
        return await _walk_page(conn, plan, order, after, wanted, wanted)
    budget = math.ceil(min(rows_to_scan * WALK_MARGIN, MAX_WALK))
    walked = await _walk_page(conn, plan, order, after, budget, wanted)
    if len(walked) == wanted:
        return walked
    reached = await _walk_end(conn, order, after, budget)
    if reached is None:
        return walked
    return walked + await _look_up_page(conn, lookup, order, reached, wanted - len(walked))


async def _walk_page(
    conn: asyncpg.Connection,
    plan: SearchPlan,
    order: Order,
    after: SortKey | None,
    budget: int,
    wanted: int,
) -> list[str]:
    statement = Statement()
    keyset = "TRUE" if after is None else order.after(statement, after)
    inner = f"{keyset} ORDER BY {order.sql} LIMIT {statement.add(budget)}"
    sql = matches_sql(statement, inner, plan.conditions, "agent_id", order, wanted)
    return [row["agent_id"] for row in await conn.fetch(sql, *statement.values)]


async def _walk_end(
    conn: asyncpg.Connection, order: Order, after: SortKey | None, budget: int
) -> SortKey | None:
    """The key of the last row a walk of ``budget`` rows after ``after`` read, if it read
    that many: where the rest begins."""
    statement = Statement()
    keyset = "TRUE" if after is None else order.after(statement, after)
    row = await conn.fetchrow(
        f"SELECT {order.column} AS key, agent_id FROM agent_search WHERE {keyset}"
        f" ORDER BY {order.sql} OFFSET {statement.add(budget - 1)} LIMIT 1",
        *statement.values,
    )
    return None if row is None else (row["key"], row["agent_id"])


async def _look_up_page(
    conn: asyncpg.Connection,
    lookup: LookUp,
    order: Order,
    after: SortKey | None,
    wanted: int,
) -> list[str]:
    statement = Statement()
    inner = f"{tests_sql(statement, lookup.indexed)} OFFSET 0"
    keyset = [] if after is None else [order.after(statement, after)]
    sql = matches_sql(statement, inner, lookup.tested, "agent_id", order, wanted, keyset)
    return [row["agent_id"] for row in await conn.fetch(sql, *statement.values)]


def matches_sql(
    statement: Statement,
    inner: str,
    tested: Sequence[Condition],
    select: str,
    order: Order,
    wanted: int,
    extra_tests: Sequence[str] = (),
) -> str:
    """Rows of ``agent_search`` chosen by ``inner`` (a ``WHERE`` clause and what follows it)
    that pass the ``tested`` conditions, ``wanted`` of them at most, in ``order``."""
    where = " AND ".join([tests_sql(statement, tested), *extra_tests])
    return (
        f"SELECT {select} FROM (SELECT {_ROW_COLUMNS} FROM agent_search WHERE {inner})"
        f" AS candidate WHERE {where} ORDER BY {order.sql} LIMIT {statement.add(wanted)}"
    )


def tests_sql(statement: Statement, conditions: Sequence[Condition]) -> str:
    """SQL testing a row against ``conditions``: one ``tsquery`` per column, each with its
    rarest conditions first and the rarer column tested first, so that most rows fail fast."""
    by_column = {
        column: sorted((c for c in conditions if c.column == column), key=lambda c: c.agents)
        for column in (TERMS, WORDS)
    }
    tests = [
        f"{column} @@ {statement.add(' & '.join(f'({c.query})' for c in chosen))}::tsquery"
        for column, chosen in sorted(by_column.items(), key=lambda item: _rarest(item[1]))
        if chosen
    ]
    return " AND ".join(tests) or "TRUE"


def _rarest(conditions: Sequence[Condition]) -> float:
    return min((condition.agents for condition in conditions), default=math.inf)
