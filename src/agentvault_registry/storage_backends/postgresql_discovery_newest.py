"""The newest matches of a PostgreSQL discovery search: what relevance ranks, what totals and
samples count.

"Newest" is the most recently indexed, the highest ``seq``. Matches are read from the top of
the ``seq`` range down, one range at a time, each range by the cheaper of a walk of the seq
index and a look-up confined to the range (the BRIN index); what a range turns out to hold
corrects the estimate for the next. Only what the caller keeps leaves the database: a count,
the seqs, or the best few by relevance, never every candidate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentvault_registry.storage_backends import postgresql_discovery_scan as scan
from agentvault_registry.storage_backends.postgresql_discovery_plan import (
    SearchPlan,
    Statement,
)
from agentvault_registry.storage_backends.postgresql_discovery_scan import (
    NEWEST,
    LookUp,
    look_up,
    matches_sql,
    tests_sql,
)

if TYPE_CHECKING:
    import asyncpg

#: Relevance order; ties go to the newest agent, then to the highest id.
_BEST_FIRST = "score DESC, created_at DESC, agent_id DESC"


@dataclass(frozen=True)
class _Keep:
    """What a take keeps of the matches it reads: their seqs, and with ``ranked`` their id,
    creation time and relevance score, best first; at most ``limit`` of them."""

    ranked: bool = False
    limit: int | None = None


class NewestMatches:
    """The matches of a plan from the newest down, taken a batch at a time: each take goes
    on below the matches of the previous one."""

    def __init__(self, conn: asyncpg.Connection, plan: SearchPlan, first: int, end: int) -> None:
        self._conn = conn
        self._plan = plan
        self._lookup: LookUp | None = look_up(plan)
        #: The seq range of the index, end excluded, and where the next take starts.
        self._first, self._end, self._top = first, end, end
        self._rows_per_seq = plan.population / max(end - first, 1)
        self._share = plan.selectivity

    @classmethod
    async def of(cls, conn: asyncpg.Connection, plan: SearchPlan) -> NewestMatches:
        span = await conn.fetchrow("SELECT min(seq) AS first, max(seq) AS last FROM agent_search")
        if span["last"] is None:
            return cls(conn, plan, 0, 0)
        return cls(conn, plan, span["first"], span["last"] + 1)

    async def count(self, wanted: int) -> int:
        """How many of the next ``wanted`` matches there are."""
        matched, _ = await self._take(wanted, _Keep(limit=1))
        return matched

    async def seqs(self, wanted: int) -> list[int]:
        """The seqs of the next ``wanted`` matches."""
        _, rows = await self._take(wanted, _Keep())
        return [row["seq"] for row in rows]

    async def best(self, candidates: int, top: int) -> tuple[int, list[asyncpg.Record]]:
        """How many of the next ``candidates`` + 1 matches there are (one more tells whether
        the candidates were all of them), and the ``top`` best of the first ``candidates`` by
        relevance: their ``agent_id``, ``created_at`` and ``score``, best first."""
        # One more kept than shown: should the extra match rank among them, it goes and the
        # next best takes its place.
        matched, rows = await self._take(candidates + 1, _Keep(ranked=True, limit=top + 1))
        if matched > candidates:
            extra = min(row["last_seq"] for row in rows)
            rows = [row for row in rows if row["seq"] != extra]
        best = sorted(
            rows, key=lambda row: (row["score"], row["created_at"], row["agent_id"]), reverse=True
        )
        return matched, best[:top]

    async def _take(self, wanted: int, keep: _Keep) -> tuple[int, list[asyncpg.Record]]:
        matched, kept = 0, []
        while matched < wanted and self._top > self._first:
            missing = wanted - matched
            rows_to_scan = missing / max(self._share, 1 / max(self._plan.population, 1))
            walk_cost = min(rows_to_scan, scan.MAX_WALK) * scan.WALK_ROW
            lookup = self._lookup
            if lookup is None or walk_cost <= self._windowed_cost(lookup, missing):
                span = min(rows_to_scan * scan.WALK_MARGIN, scan.MAX_WALK)
                bottom = max(self._first, self._top - math.ceil(span / self._rows_per_seq))
                sql, values = self._walk(bottom, missing, keep)
            else:
                width = math.ceil(rows_to_scan * scan.WINDOW_MARGIN / self._rows_per_seq)
                bottom = max(self._first, self._top - width)
                sql, values = self._look_up(lookup, bottom, missing, keep)
            rows = await self._conn.fetch(sql, *values)
            found = rows[0]["matched"] if rows else 0
            matched += found
            kept += rows
            # What the range showed replaces the estimate for the rest; a take that found all
            # it wanted before the range's end goes on just below its last match next time.
            self._share = max(found, 1) / max((self._top - bottom) * self._rows_per_seq, 1)
            self._top = rows[0]["last_seq"] if found == missing else bottom
        return matched, kept

    def _windowed_cost(self, lookup: LookUp, wanted: int) -> float:
        """The cost of looking up ``wanted`` matches in a range just wide enough."""
        share = min(1.0, wanted / max(self._plan.expected_matches, 1))
        return lookup.postings_cost + lookup.rows * share * scan.FETCH_ROW

    def _walk(self, bottom: int, wanted: int, keep: _Keep) -> tuple[str, list[object]]:
        statement = Statement()
        columns = self._columns(statement, keep)
        bounds = f"seq >= {statement.add(bottom)} AND seq < {statement.add(self._top)}"
        inner = f"{bounds} ORDER BY {NEWEST.sql} LIMIT {statement.add(self._top - bottom)}"
        matches = matches_sql(statement, inner, self._plan.conditions, columns, NEWEST, wanted)
        return _kept(statement, matches, keep), statement.values

    def _look_up(
        self, lookup: LookUp, bottom: int, wanted: int, keep: _Keep
    ) -> tuple[str, list[object]]:
        statement = Statement()
        columns = self._columns(statement, keep)
        tests = [tests_sql(statement, lookup.indexed)]
        # Bounds only where the range ends inside the index: the planner might use them anyway.
        if bottom > self._first:
            tests.append(f"seq >= {statement.add(bottom)}")
        if self._top < self._end:
            tests.append(f"seq < {statement.add(self._top)}")
        inner = f"{' AND '.join(tests)} OFFSET 0"
        matches = matches_sql(statement, inner, lookup.tested, columns, NEWEST, wanted)
        return _kept(statement, matches, keep), statement.values

    def _columns(self, statement: Statement, keep: _Keep) -> str:
        if not keep.ranked:
            return "seq"
        if self._plan.rank_query is None:
            # Every word was a stop word: nothing to rank by, all score alike.
            return "seq, agent_id, created_at, 0::real AS score"
        rank = f"ts_rank(search_vector, {statement.add(self._plan.rank_query)}::tsquery)"
        return f"seq, agent_id, created_at, {rank} AS score"


def _kept(statement: Statement, matches: str, keep: _Keep) -> str:
    """What ``keep`` keeps of ``matches``, each row with how many matches there were and the
    lowest seq among them."""
    order = f" ORDER BY {_BEST_FIRST}" if keep.ranked else ""
    limit = "" if keep.limit is None else f" LIMIT {statement.add(keep.limit)}"
    return (
        "SELECT *, count(*) OVER () AS matched, min(seq) OVER () AS last_seq"
        f" FROM ({matches}) AS step{order}{limit}"
    )
