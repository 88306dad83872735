"""The agents records (agents and their change feed) in SQLite.

Sequences and mappings are stored as JSON text; timestamps as fixed-width ISO-8601 UTC text,
as for the accounts (see :mod:`~agentvault_registry.storage_backends.sqlite_accounts`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import aiosqlite

from agentvault_registry.core.errors import Conflict, NotFound, PreconditionFailed
from agentvault_registry.storage_backends.agents import (
    AGENT_UPDATABLE_FIELDS,
    AgentEvent,
    AgentFilter,
    AgentPage,
    AgentRecord,
    AgentsRecords,
    agent_snapshot,
    reference_lookup,
)
from agentvault_registry.storage_backends.sqlite_accounts import _text
from agentvault_registry.storage_backends.sqlite_discovery_index import index_agent

_AGENT_FIELDS = tuple(item.name for item in dataclasses.fields(AgentRecord))
_AGENT_COLUMNS = ", ".join(_AGENT_FIELDS)
_EVENT_COLUMNS = "event_type, agent_id, actor_id, occurred_at, snapshot, seq"
_SEQUENCE_FIELDS = frozenset({"api_endpoints", "capabilities", "tags"})
_JSON_FIELDS = frozenset({"pricing", "metadata", "card_summary", "signature", "health"})
_TIMESTAMP_FIELDS = frozenset({"created_at", "updated_at", "verified_at"})
#: SQLite names the columns, not the constraint, of a failed UNIQUE constraint.
_AGENT_UNIQUE_FIELDS = {
    "agents.human_readable_id_lower": "human_readable_id",
    "agents.did": "did",
    "agents.id": "id",
}


class SqliteAgents(AgentsRecords):
    """The agents part of :class:`~agentvault_registry.storage_backends.sqlite.SqliteRecords`,
    built on its ``_transaction()`` (``BEGIN IMMEDIATE``), ``_snapshot()`` and ``_fetch()``.

    Writers hold the file's write lock from the first statement to the commit, so an update's
    version check and its write are one step, and events are numbered in commit order.
    """

    async def create_agent(self, agent: AgentRecord, event: AgentEvent) -> AgentRecord:
        async with self._transaction() as conn:
            return await insert_agent(conn, agent, event)

    async def get_agent(self, reference: str) -> AgentRecord | None:
        column, value = reference_lookup(reference)
        rows = await self._fetch(
            f"SELECT {_AGENT_COLUMNS} FROM agents WHERE {column} = ?", (value,)
        )
        return _decode_agent(rows[0]) if rows else None

    async def update_agent(
        self,
        agent_id: str,
        expected_version: int,
        changes: Mapping[str, Any],
        event: AgentEvent,
    ) -> AgentRecord:
        values = _encoded_changes(changes)
        # Column names come from the allow-list, never from the caller.
        assignments = "".join(f"{column} = ?, " for column in values)
        async with self._transaction() as conn:
            with _unique_conflicts():
                rows = await conn.execute_fetchall(
                    f"UPDATE agents SET {assignments}updated_at = ?, version = version + 1"
                    f" WHERE id = ? AND version = ? RETURNING {_AGENT_COLUMNS}",
                    (*values.values(), _text(event.occurred_at), agent_id, expected_version),
                )
            if not rows:
                exists = await conn.execute_fetchall(
                    "SELECT 1 FROM agents WHERE id = ?", (agent_id,)
                )
                if exists:
                    raise PreconditionFailed("The agent has changed since that version.")
                raise NotFound("No such agent.")
            stored = _decode_agent(next(iter(rows)))
            await append_events(conn, [(event, stored)])
            await index_agent(conn, stored)
        return stored

    async def list_agents(
        self,
        agent_filter: AgentFilter,
        *,
        limit: int,
        after: tuple[dt.datetime, str] | None = None,
        offset: int = 0,
        count_limit: int = 10_000,
    ) -> AgentPage:
        if limit < 1 or count_limit < 0 or offset < 0:
            raise ValueError("limit must be positive, offset and count_limit not negative")
        where, parameters = _where(agent_filter)
        keyset, after_parameters = (
            ("", ())
            if after is None
            else (" AND (created_at, id) < (?, ?)", (_text(after[0]), after[1]))
        )
        async with self._snapshot() as conn:
            rows = await conn.execute_fetchall(
                f"SELECT {_AGENT_COLUMNS} FROM agents WHERE {where}{keyset}"
                " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                (*parameters, *after_parameters, limit + 1, offset),
            )
            counted = await conn.execute_fetchall(
                f"SELECT count(*) FROM (SELECT 1 FROM agents WHERE {where} LIMIT ?)",
                (*parameters, count_limit + 1),
            )
        agents = [_decode_agent(row) for row in list(rows)[:limit]]
        count = next(iter(counted))[0]
        last = agents[-1] if len(rows) > limit else None
        return AgentPage(
            agents=agents,
            total=min(count, count_limit),
            total_exact=count <= count_limit,
            next_after=None if last is None else (last.created_at, last.id),
        )

    async def list_agent_events(self, *, after_seq: int = 0, limit: int = 100) -> list[AgentEvent]:
        rows = await self._fetch(
            f"SELECT {_EVENT_COLUMNS} FROM agent_events WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [
            AgentEvent(
                event_type=event_type,
                agent_id=agent_id,
                actor_id=actor_id,
                occurred_at=dt.datetime.fromisoformat(occurred_at),
                snapshot=json.loads(snapshot),
                seq=seq,
            )
            for event_type, agent_id, actor_id, occurred_at, snapshot, seq in rows
        ]


# ------------------------------------------------------------------ helpers


async def insert_agent(
    conn: aiosqlite.Connection, agent: AgentRecord, event: AgentEvent
) -> AgentRecord:
    """Insert ``agent``, append ``event`` and index the agent on ``conn``, inside the caller's
    write transaction; return the stored agent. A taken slug is ``Conflict``, as in
    ``create_agent``."""
    values = _encoded_agent(agent)
    with _unique_conflicts():
        rows = await conn.execute_fetchall(
            f"INSERT INTO agents ({', '.join(values)})"
            f" VALUES ({', '.join('?' * len(values))}) RETURNING {_AGENT_COLUMNS}",
            tuple(values.values()),
        )
    stored = _decode_agent(next(iter(rows)))
    await append_events(conn, [(event, stored)])
    await index_agent(conn, stored)
    return stored


async def insert_agents(
    conn: aiosqlite.Connection, agents: Sequence[AgentRecord]
) -> list[AgentRecord]:
    """Insert ``agents`` with one ``executemany``, inside the caller's write transaction, and
    return them as stored (neither events nor index: the bulk path does those in bulk too).
    A taken id, DID or slug is ``Conflict`` naming the field, as in ``create_agent``."""
    rows = [_encoded_agent(agent) for agent in agents]
    if not rows:
        return []
    columns = ", ".join(rows[0])
    with _unique_conflicts():
        await conn.executemany(
            f"INSERT INTO agents ({columns}) VALUES ({', '.join('?' * len(rows[0]))})",
            [tuple(values.values()) for values in rows],
        )
    # What SQLite stores is what these values decode to; reading the rows back would cost a
    # second pass over the batch.
    return [_decode_agent([values[name] for name in _AGENT_FIELDS]) for values in rows]


async def append_events(
    conn: aiosqlite.Connection, events: Sequence[tuple[AgentEvent, AgentRecord]]
) -> None:
    """Append each event with its agent's id and snapshot, in order."""
    await conn.executemany(
        "INSERT INTO agent_events (event_type, agent_id, actor_id, occurred_at, snapshot)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (
                event.event_type,
                agent.id,
                event.actor_id,
                _text(event.occurred_at),
                json.dumps(agent_snapshot(agent), separators=(",", ":")),
            )
            for event, agent in events
        ],
    )


def _encoded_agent(agent: AgentRecord) -> dict[str, Any]:
    values = {name: _encode(name, getattr(agent, name)) for name in _AGENT_FIELDS}
    values["human_readable_id_lower"] = agent.human_readable_id.lower()
    return values


@contextlib.contextmanager
def _unique_conflicts() -> Iterator[None]:
    """Turn a UNIQUE violation of a known column into ``Conflict`` naming the field."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        field = _AGENT_UNIQUE_FIELDS.get(str(exc).removeprefix("UNIQUE constraint failed: "))
        if field is None:
            raise
        raise Conflict(f"The {field} is taken.", details={"field": field}) from None


def _where(agent_filter: AgentFilter) -> tuple[str, tuple[Any, ...]]:
    statuses = tuple(agent_filter.statuses)
    # No status selected selects no agent ("IN ()" is not SQL).
    clauses = [f"status IN ({', '.join('?' * len(statuses))})" if statuses else "0"]
    parameters: list[Any] = list(statuses)
    for column, value in (
        ("developer_id", agent_filter.developer_id),
        ("agent_type", agent_filter.agent_type),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            parameters.append(value)
    if agent_filter.capability is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM json_each(agents.capabilities) WHERE json_each.value = ?)"
        )
        parameters.append(agent_filter.capability)
    return " AND ".join(clauses), tuple(parameters)


def _encoded_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - AGENT_UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"agents have no updatable field(s) {sorted(unknown)}")
    values = {name: _encode(name, value) for name, value in changes.items()}
    if "human_readable_id" in changes:
        values["human_readable_id_lower"] = changes["human_readable_id"].lower()
    return values


def _encode(name: str, value: Any) -> Any:
    if name in _SEQUENCE_FIELDS:
        if isinstance(value, str):
            raise ValueError(f"{name} must be a sequence of strings, not a string")
        return json.dumps(list(value))
    if value is None:
        return None
    if name in _JSON_FIELDS:
        return json.dumps(value, default=_plain_mapping)
    if name in _TIMESTAMP_FIELDS:
        return _text(value)
    return value


def _plain_mapping(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _decode_agent(row: Sequence[Any]) -> AgentRecord:
    values: dict[str, Any] = {}
    for name, value in zip(_AGENT_FIELDS, row, strict=True):
        if value is not None and name in _TIMESTAMP_FIELDS:
            value = dt.datetime.fromisoformat(value)
        elif name in _SEQUENCE_FIELDS:
            value = tuple(json.loads(value))
        elif value is not None and name in _JSON_FIELDS:
            value = json.loads(value)
        elif name == "verified":
            value = bool(value)
        values[name] = value
    return AgentRecord(**values)
