"""The health records (probe states, uptime, agents' health) in PostgreSQL (schema: migration
``0008_agent_probes.sql``). ``health`` is ``jsonb``, sent as JSON text like the agents' other
mappings (see :mod:`~agentvault_registry.storage_backends.postgresql_agents`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentvault_registry.core.errors import NotFound
from agentvault_registry.storage_backends.agents import (
    ACTIVE,
    DELETED,
    AgentRecord,
    health_status,
)
from agentvault_registry.storage_backends.health import (
    PROBE_FIELDS,
    HealthRecords,
    ProbeState,
    RecordedProbe,
    Uptime,
    first_probe_counts,
    uptime_hour,
)
from agentvault_registry.storage_backends.postgresql_agents import (
    AGENT_COLUMNS,
    EVENT_LOCK_KEY,
    _plain_mapping,
    decode_agent,
)
from agentvault_registry.storage_backends.postgresql_discovery_index import index_agent

if TYPE_CHECKING:
    import asyncpg

_PROBE_COLUMNS = ", ".join(PROBE_FIELDS)
#: What the backend derives from the stored state rather than takes from the caller.
_DERIVED = frozenset({"agent_id", "consecutive_failures", "last_reachable_at"})
# The right-hand sides read the row as it was, so the counts follow the stored probe's.
_UPSERT_PROBE = (
    f"INSERT INTO agent_probes ({_PROBE_COLUMNS})"
    f" VALUES ({', '.join(f'${n}' for n in range(1, len(PROBE_FIELDS) + 1))})"
    " ON CONFLICT (agent_id) DO UPDATE SET "
    + "".join(f"{name} = excluded.{name}, " for name in PROBE_FIELDS if name not in _DERIVED)
    + "consecutive_failures = CASE WHEN excluded.reachable THEN 0"
    " ELSE agent_probes.consecutive_failures + 1 END,"
    " last_reachable_at = CASE WHEN excluded.reachable THEN excluded.checked_at"
    " ELSE agent_probes.last_reachable_at END"
    " WHERE agent_probes.checked_at <= excluded.checked_at"
)
#: The prober's candidates, in the words of the partial index ``agents_probe_due``.
_CANDIDATES = f"status = '{ACTIVE}' AND cardinality(api_endpoints) > 0"


class PostgresHealth(HealthRecords):
    """The health part of
    :class:`~agentvault_registry.storage_backends.postgresql.PostgresRecords`, on the primary
    (its ``connection()``): the prober reads what it has just written.

    The uptime bucket is one ``INSERT ... ON CONFLICT DO UPDATE``, so concurrent probes all
    count; a health write locks the agent row first (``FOR UPDATE``), so the status it
    compares with is the one it replaces, and takes the event lock before it re-indexes, as
    every writer of the index's running counts does (see
    :class:`~agentvault_registry.storage_backends.postgresql_agents.PostgresAgents`).
    """

    async def record_probe(self, probe: ProbeState, *, keep_since: dt.datetime) -> RecordedProbe:
        values = {name: getattr(probe, name) for name in PROBE_FIELDS} | first_probe_counts(probe)
        async with self.connection() as conn, conn.transaction():
            if not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM agents WHERE id = $1)", probe.agent_id
            ):
                raise NotFound("No such agent.")
            await conn.execute(
                "INSERT INTO agent_uptime AS bucket (agent_id, hour, answered, probes)"
                " VALUES ($1, $2, $3, 1) ON CONFLICT (agent_id, hour) DO UPDATE SET"
                " answered = bucket.answered + excluded.answered, probes = bucket.probes + 1",
                probe.agent_id,
                uptime_hour(probe.checked_at),
                int(probe.reachable),
            )
            await conn.execute(
                "DELETE FROM agent_uptime WHERE agent_id = $1 AND hour < $2",
                probe.agent_id,
                keep_since,
            )
            await conn.execute(_UPSERT_PROBE, *values.values())
            state = await _probe_state(conn, probe.agent_id)
            answered, probes = await conn.fetchrow(
                "SELECT coalesce(sum(answered), 0), coalesce(sum(probes), 0) FROM agent_uptime"
                " WHERE agent_id = $1 AND hour >= $2",
                probe.agent_id,
                keep_since,
            )
        assert state is not None, "stored in this very transaction"
        return RecordedProbe(state, Uptime(answered, probes))

    async def get_probe_state(self, agent_id: str) -> ProbeState | None:
        async with self.connection() as conn:
            return await _probe_state(conn, agent_id)

    async def set_agent_health(
        self, agent_id: str, health: Mapping[str, Any], probed_at: dt.datetime
    ) -> AgentRecord | None:
        _check_aware(probed_at)
        async with self.connection() as conn, conn.transaction():
            before = await conn.fetchrow(
                f"SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1 AND status <> '{DELETED}'"
                " AND (probed_at IS NULL OR probed_at <= $2) FOR UPDATE",
                agent_id,
                probed_at,
            )
            if before is None:
                return None
            row = await conn.fetchrow(
                f"UPDATE agents SET health = $2, probed_at = $3 WHERE id = $1"
                f" RETURNING {AGENT_COLUMNS}",
                agent_id,
                json.dumps(health, default=_plain_mapping),
                probed_at,
            )
            stored = decode_agent(row)
            # The index holds the health status only: a new latency changes nothing there.
            if health_status(stored) != health_status(decode_agent(before)):
                await conn.execute("SELECT pg_advisory_xact_lock($1)", EVENT_LOCK_KEY)
                await index_agent(conn, stored)
        return stored

    async def agents_due_for_probe(
        self, *, probed_before: dt.datetime, limit: int
    ) -> list[AgentRecord]:
        if limit < 1:
            raise ValueError("limit must be positive")
        _check_aware(probed_before)
        # Two walks of the partial index: as one query with "IS NULL OR <", a round finding
        # fewer due agents than its limit would read on through every up-to-date one.
        async with self.connection() as conn, conn.transaction(isolation="repeatable_read"):
            rows = list(
                await conn.fetch(
                    f"SELECT {AGENT_COLUMNS} FROM agents WHERE {_CANDIDATES}"
                    " AND probed_at IS NULL ORDER BY probed_at NULLS FIRST, id LIMIT $1",
                    limit,
                )
            )
            if len(rows) < limit:
                rows += await conn.fetch(
                    f"SELECT {AGENT_COLUMNS} FROM agents WHERE {_CANDIDATES}"
                    " AND probed_at < $1 ORDER BY probed_at NULLS FIRST, id LIMIT $2",
                    probed_before,
                    limit - len(rows),
                )
        return [decode_agent(row) for row in rows]


async def _probe_state(conn: asyncpg.Connection, agent_id: str) -> ProbeState | None:
    row = await conn.fetchrow(
        f"SELECT {_PROBE_COLUMNS} FROM agent_probes WHERE agent_id = $1", agent_id
    )
    return None if row is None else ProbeState(**dict(row))


def _check_aware(moment: dt.datetime) -> None:
    if moment.utcoffset() is None:
        # asyncpg would take a naive datetime as UTC; its zone is a guess.
        raise ValueError(f"timestamps must be timezone-aware, got {moment!r}")
