"""The agents records (agents and their change feed) in PostgreSQL.

Sequences are ``text[]`` and mappings ``jsonb`` (sent and read as JSON text, which is what
asyncpg exchanges for ``jsonb`` by default).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import importlib
import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

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
from agentvault_registry.storage_backends.postgresql_discovery_index import index_agent

if TYPE_CHECKING:
    import asyncpg

_AGENT_FIELDS = tuple(item.name for item in dataclasses.fields(AgentRecord))
AGENT_COLUMNS = ", ".join(_AGENT_FIELDS)
_EVENT_COLUMNS = "event_type, agent_id, actor_id, occurred_at, snapshot, seq"
#: The columns an appended event is given; the rest (seq) are the database's.
EVENT_INSERT_COLUMNS = ("event_type", "agent_id", "actor_id", "occurred_at", "snapshot")
_SEQUENCE_FIELDS = frozenset({"api_endpoints", "capabilities", "tags"})
_JSON_FIELDS = frozenset({"pricing", "metadata", "card_summary", "signature", "health"})
#: The unique constraints of ``agents`` (see migration 0003) and the field each protects.
_AGENT_UNIQUE_FIELDS = {
    "agents_human_readable_id_unique": "human_readable_id",
    "agents_did_unique": "did",
    "agents_pkey": "id",
}
#: Key of the transaction advisory lock under which events are appended ("avreg_ev").
EVENT_LOCK_KEY = 0x6176_7265_675F_6576


class PostgresAgents(AgentsRecords):
    """The agents part of
    :class:`~agentvault_registry.storage_backends.postgresql.PostgresRecords`, built on its
    ``connection()`` (the primary) and ``reader()`` (the read replica, if any).

    Every write also brings the agent's discovery index up to date, in its transaction and
    after the event lock is taken: the index's running counts need writers one at a time.
    Writes and ``get_agent`` use the primary, so an agent is found right after it is created;
    listings and the feed may lag on a replica. An update is one ``UPDATE ... WHERE version``:
    PostgreSQL re-checks the ``WHERE`` after waiting for a concurrent update of the row, so of
    updates naming one version only the first succeeds.
    """

    async def create_agent(self, agent: AgentRecord, event: AgentEvent) -> AgentRecord:
        async with self.connection() as conn, conn.transaction():
            return await insert_agent(conn, agent, event)

    async def get_agent(self, reference: str) -> AgentRecord | None:
        column, value = reference_lookup(reference)
        async with self.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {AGENT_COLUMNS} FROM agents WHERE {column} = $1", value
            )
        return decode_agent(row) if row else None

    async def update_agent(
        self,
        agent_id: str,
        expected_version: int,
        changes: Mapping[str, Any],
        event: AgentEvent,
    ) -> AgentRecord:
        values = _encoded_changes(changes)
        # Column names come from the allow-list, never from the caller.
        assignments = "".join(
            f"{column} = ${number}, " for number, column in enumerate(values, start=4)
        )
        async with self.connection() as conn, conn.transaction():
            with unique_conflicts():
                row = await conn.fetchrow(
                    f"UPDATE agents SET {assignments}updated_at = $3, version = version + 1"
                    f" WHERE id = $1 AND version = $2 RETURNING {AGENT_COLUMNS}",
                    agent_id,
                    expected_version,
                    _encode("updated_at", event.occurred_at),
                    *values.values(),
                )
            if row is None:
                if await conn.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM agents WHERE id = $1)", agent_id
                ):
                    raise PreconditionFailed("The agent has changed since that version.")
                raise NotFound("No such agent.")
            stored = decode_agent(row)
            await _append_event(conn, event, stored)
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
        count_number = len(parameters) + 1
        keyset, after_parameters = ("", ())
        if after is not None:
            keyset = f" AND (created_at, id) < (${count_number + 1}, ${count_number + 2})"
            after_parameters = (_encode("created_at", after[0]), after[1])
        async with (
            self.reader() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            # One snapshot: the page and the count see the same database.
            offset_number = count_number + len(after_parameters) + 1
            rows = await conn.fetch(
                f"SELECT {AGENT_COLUMNS} FROM agents WHERE {where}{keyset}"
                f" ORDER BY created_at DESC, id DESC LIMIT ${count_number}"
                f" OFFSET ${offset_number}",
                *parameters,
                limit + 1,
                *after_parameters,
                offset,
            )
            count = await conn.fetchval(
                f"SELECT count(*) FROM (SELECT 1 FROM agents WHERE {where}"
                f" LIMIT ${count_number}) AS capped",
                *parameters,
                count_limit + 1,
            )
        agents = [decode_agent(row) for row in rows[:limit]]
        last = agents[-1] if len(rows) > limit else None
        return AgentPage(
            agents=agents,
            total=min(count, count_limit),
            total_exact=count <= count_limit,
            next_after=None if last is None else (last.created_at, last.id),
        )

    async def list_agent_events(self, *, after_seq: int = 0, limit: int = 100) -> list[AgentEvent]:
        async with self.reader() as conn:
            rows = await conn.fetch(
                f"SELECT {_EVENT_COLUMNS} FROM agent_events WHERE seq > $1 ORDER BY seq LIMIT $2",
                after_seq,
                limit,
            )
        return [AgentEvent(**{**row, "snapshot": json.loads(row["snapshot"])}) for row in rows]


# ------------------------------------------------------------------ helpers


async def insert_agent(
    conn: asyncpg.Connection, agent: AgentRecord, event: AgentEvent
) -> AgentRecord:
    """Insert ``agent``, append ``event`` and index the agent on ``conn``, inside the caller's
    transaction (the event lock is held until it commits); return the stored agent. A taken
    slug is ``Conflict``, as in ``create_agent``."""
    values = encoded_agent(agent)
    placeholders = ", ".join(f"${number}" for number in range(1, len(values) + 1))
    with unique_conflicts():
        row = await conn.fetchrow(
            f"INSERT INTO agents ({', '.join(values)}) VALUES ({placeholders})"
            f" RETURNING {AGENT_COLUMNS}",
            *values.values(),
        )
    stored = decode_agent(row)
    await _append_event(conn, event, stored)
    await index_agent(conn, stored)
    return stored


def encoded_agent(agent: AgentRecord) -> dict[str, Any]:
    """The ``agents`` row of ``agent``: its fields encoded, and its lower-cased slug."""
    values = {name: _encode(name, getattr(agent, name)) for name in _AGENT_FIELDS}
    values["human_readable_id_lower"] = agent.human_readable_id.lower()
    return values


@contextlib.contextmanager
def unique_conflicts() -> Iterator[None]:
    """Turn a violation of a known unique constraint into ``Conflict`` naming the field."""
    # asyncpg is imported lazily, like in postgresql.py; a query only runs after open()
    # has proved it is installed.
    unique_violation = importlib.import_module("asyncpg").UniqueViolationError
    try:
        yield
    except unique_violation as exc:
        field = _AGENT_UNIQUE_FIELDS.get(getattr(exc, "constraint_name", None))
        if field is None:
            raise
        raise Conflict(f"The {field} is taken.", details={"field": field}) from None


async def _append_event(conn: asyncpg.Connection, event: AgentEvent, agent: AgentRecord) -> None:
    # Held to commit: the next writer takes its seq only once this one is visible, so seq
    # order is commit order and a feed reader never skips an event committed late.
    await conn.execute("SELECT pg_advisory_xact_lock($1)", EVENT_LOCK_KEY)
    await conn.execute(
        f"INSERT INTO agent_events ({', '.join(EVENT_INSERT_COLUMNS)}) VALUES ($1, $2, $3, $4, $5)",
        *event_values(event, agent),
    )


def event_values(event: AgentEvent, agent: AgentRecord) -> tuple[Any, ...]:
    """The :data:`EVENT_INSERT_COLUMNS` of ``event`` about ``agent`` as stored."""
    return (
        event.event_type,
        agent.id,
        event.actor_id,
        _encode("occurred_at", event.occurred_at),
        json.dumps(agent_snapshot(agent)),
    )


def _where(agent_filter: AgentFilter) -> tuple[str, list[Any]]:
    # An empty status list selects no agent.
    clauses = ["status = ANY($1::text[])"]
    parameters: list[Any] = [list(agent_filter.statuses)]
    for column, value in (
        ("developer_id", agent_filter.developer_id),
        ("agent_type", agent_filter.agent_type),
    ):
        if value is not None:
            parameters.append(value)
            clauses.append(f"{column} = ${len(parameters)}")
    if agent_filter.capability is not None:
        # "@>" on the array, which the GIN index answers.
        parameters.append([agent_filter.capability])
        clauses.append(f"capabilities @> ${len(parameters)}::text[]")
    return " AND ".join(clauses), parameters


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
        return list(value)
    if name in _JSON_FIELDS and value is not None:
        return json.dumps(value, default=_plain_mapping)
    if isinstance(value, dt.datetime) and value.utcoffset() is None:
        # asyncpg would take a naive datetime as UTC; its zone is a guess.
        raise ValueError(f"timestamps must be timezone-aware, got {value!r}")
    return value


def _plain_mapping(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def decode_agent(row: Mapping[str, Any]) -> AgentRecord:
    values = dict(row)
    for name in _SEQUENCE_FIELDS:
        values[name] = tuple(values[name])
    for name in _JSON_FIELDS:
        if values[name] is not None:
            values[name] = json.loads(values[name])
    return AgentRecord(**values)
