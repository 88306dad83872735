"""The health records (probe states, uptime, agents' health) in SQLite (schema: migration
``0008_agent_probes.sql``).

Timestamps are fixed-width ISO-8601 UTC text, as for the accounts (see
:mod:`~agentvault_registry.storage_backends.sqlite_accounts`); ``health`` is JSON text.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import aiosqlite

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
from agentvault_registry.storage_backends.sqlite_accounts import _text
from agentvault_registry.storage_backends.sqlite_agents import (
    _AGENT_COLUMNS,
    _decode_agent,
    _plain_mapping,
)
from agentvault_registry.storage_backends.sqlite_discovery_index import index_agent

_PROBE_COLUMNS = ", ".join(PROBE_FIELDS)
_TIMESTAMP_FIELDS = frozenset({"checked_at", "last_reachable_at"})
#: What the backend derives from the stored state rather than takes from the caller.
_DERIVED = frozenset({"agent_id", "consecutive_failures", "last_reachable_at"})
# The right-hand sides read the row as it was, so the counts follow the stored probe's.
_UPSERT_PROBE = (
    f"INSERT INTO agent_probes ({_PROBE_COLUMNS}) VALUES ({', '.join('?' * len(PROBE_FIELDS))})"
    " ON CONFLICT (agent_id) DO UPDATE SET "
    + "".join(f"{name} = excluded.{name}, " for name in PROBE_FIELDS if name not in _DERIVED)
    + "consecutive_failures = CASE WHEN excluded.reachable THEN 0"
    " ELSE agent_probes.consecutive_failures + 1 END,"
    " last_reachable_at = CASE WHEN excluded.reachable THEN excluded.checked_at"
    " ELSE agent_probes.last_reachable_at END"
    " WHERE agent_probes.checked_at <= excluded.checked_at"
)
#: The prober's candidates, in the words of the partial index ``agents_probe_due``.
_CANDIDATES = f"status = '{ACTIVE}' AND api_endpoints <> '[]'"


class SqliteHealth(HealthRecords):
    """The health part of :class:`~agentvault_registry.storage_backends.sqlite.SqliteRecords`,
    built on its ``_transaction()`` (``BEGIN IMMEDIATE``), ``_snapshot()`` and ``_fetch()``.

    Every write holds the file's write lock from its first statement to the commit, so the
    counts of concurrent probes, in this process or another sharing the file, all add up, and
    the health a probe read before writing is the one it replaces.
    """

    async def record_probe(self, probe: ProbeState, *, keep_since: dt.datetime) -> RecordedProbe:
        values = _encoded_probe(probe)
        async with self._transaction() as conn:
            if not await conn.execute_fetchall(
                "SELECT 1 FROM agents WHERE id = ?", (probe.agent_id,)
            ):
                raise NotFound("No such agent.")
            await conn.execute(
                "INSERT INTO agent_uptime (agent_id, hour, answered, probes) VALUES (?, ?, ?, 1)"
                " ON CONFLICT (agent_id, hour) DO UPDATE SET"
                " answered = answered + excluded.answered, probes = probes + 1",
                (probe.agent_id, _text(uptime_hour(probe.checked_at)), int(probe.reachable)),
            )
            await conn.execute(
                "DELETE FROM agent_uptime WHERE agent_id = ? AND hour < ?",
                (probe.agent_id, _text(keep_since)),
            )
            await conn.execute(_UPSERT_PROBE, tuple(values.values()))
            state = await _probe_state(conn, probe.agent_id)
            rows = await conn.execute_fetchall(
                "SELECT coalesce(sum(answered), 0), coalesce(sum(probes), 0) FROM agent_uptime"
                " WHERE agent_id = ? AND hour >= ?",
                (probe.agent_id, _text(keep_since)),
            )
        assert state is not None, "stored in this very transaction"
        answered, probes = next(iter(rows))
        return RecordedProbe(state, Uptime(answered, probes))

    async def get_probe_state(self, agent_id: str) -> ProbeState | None:
        async with self._snapshot() as conn:
            return await _probe_state(conn, agent_id)

    async def set_agent_health(
        self, agent_id: str, health: Mapping[str, Any], probed_at: dt.datetime
    ) -> AgentRecord | None:
        async with self._transaction() as conn:
            before = await conn.execute_fetchall(
                f"SELECT {_AGENT_COLUMNS} FROM agents WHERE id = ? AND status <> '{DELETED}'"
                " AND (probed_at IS NULL OR probed_at <= ?)",
                (agent_id, _text(probed_at)),
            )
            if not before:
                return None
            rows = await conn.execute_fetchall(
                f"UPDATE agents SET health = ?, probed_at = ? WHERE id = ?"
                f" RETURNING {_AGENT_COLUMNS}",
                (json.dumps(health, default=_plain_mapping), _text(probed_at), agent_id),
            )
            stored = _decode_agent(next(iter(rows)))
            # The index holds the health status only: a new latency changes nothing there.
            if health_status(stored) != health_status(_decode_agent(next(iter(before)))):
                await index_agent(conn, stored)
        return stored

    async def agents_due_for_probe(
        self, *, probed_before: dt.datetime, limit: int
    ) -> list[AgentRecord]:
        if limit < 1:
            raise ValueError("limit must be positive")
        # Two walks of the partial index: as one query with "IS NULL OR <", a round finding
        # fewer due agents than its limit would read on through every up-to-date one. Named,
        # because without statistics SQLite prefers the status index and sorts every active
        # agent.
        async with self._snapshot() as conn:
            rows = list(
                await conn.execute_fetchall(
                    f"SELECT {_AGENT_COLUMNS} FROM agents INDEXED BY agents_probe_due"
                    f" WHERE {_CANDIDATES} AND probed_at IS NULL ORDER BY probed_at, id LIMIT ?",
                    (limit,),
                )
            )
            if len(rows) < limit:
                rows += await conn.execute_fetchall(
                    f"SELECT {_AGENT_COLUMNS} FROM agents INDEXED BY agents_probe_due"
                    f" WHERE {_CANDIDATES} AND probed_at < ? ORDER BY probed_at, id LIMIT ?",
                    (_text(probed_before), limit - len(rows)),
                )
        return [_decode_agent(row) for row in rows]


async def _probe_state(conn: aiosqlite.Connection, agent_id: str) -> ProbeState | None:
    rows = await conn.execute_fetchall(
        f"SELECT {_PROBE_COLUMNS} FROM agent_probes WHERE agent_id = ?", (agent_id,)
    )
    return _decode_probe(next(iter(rows))) if rows else None


def _encoded_probe(probe: ProbeState) -> dict[str, Any]:
    values = {name: getattr(probe, name) for name in PROBE_FIELDS}
    values.update(first_probe_counts(probe))
    values["reachable"] = int(probe.reachable)
    for name in _TIMESTAMP_FIELDS:
        if values[name] is not None:
            values[name] = _text(values[name])
    return values


def _decode_probe(row: Sequence[Any]) -> ProbeState:
    values = dict(zip(PROBE_FIELDS, row, strict=True))
    for name in _TIMESTAMP_FIELDS:
        if values[name] is not None:
            values[name] = dt.datetime.fromisoformat(values[name])
    values["reachable"] = bool(values["reachable"])
    return ProbeState(**values)
