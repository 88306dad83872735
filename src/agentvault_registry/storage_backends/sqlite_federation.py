"""The federation records (peer registries and mirrors of their agents) in SQLite.

A mirrored agent's ``document`` is stored as JSON text; timestamps as fixed-width ISO-8601 UTC
text, as for the accounts (see :mod:`~agentvault_registry.storage_backends.sqlite_accounts`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from agentvault_registry.core.errors import Conflict, NotFound
from agentvault_registry.storage_backends.federation import (
    MIRROR_FIELDS,
    MIRROR_KEY,
    PEER_ACTIVE,
    PEER_FIELDS,
    PEER_STATUSES,
    PEER_UNHEALTHY,
    FederationRecords,
    MirroredAgent,
    PeerRecord,
    check_upserts_belong_to,
    peer_column_changes,
)
from agentvault_registry.storage_backends.sqlite_accounts import _text
from agentvault_registry.storage_backends.sqlite_agents import _plain_mapping

_PEER_COLUMNS = ", ".join(PEER_FIELDS)
_MIRROR_COLUMNS = ", ".join(MIRROR_FIELDS)
_TIMESTAMP_FIELDS = frozenset(
    {"created_at", "updated_at", "last_seen_at", "last_failure_at", "mirrored_at"}
)
#: SQLite names the columns, not the constraint, of a failed UNIQUE constraint.
_PEER_UNIQUE_FIELDS = {
    "federation_peers.name_lower": "name",
    "federation_peers.registry_url": "registry_url",
    "federation_peers.inbound_token_digest": "inbound_token_digest",
}
_UPSERT_MIRRORED_AGENT = (
    f"INSERT INTO federation_mirror ({_MIRROR_COLUMNS})"
    f" VALUES ({', '.join('?' * len(MIRROR_FIELDS))})"
    f" ON CONFLICT ({', '.join(MIRROR_KEY)}) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in MIRROR_FIELDS if name not in MIRROR_KEY)
    # A slower, older sync never replaces what a newer one stored.
    + " WHERE federation_mirror.seq < excluded.seq"
)


class SqliteFederation(FederationRecords):
    """The federation part of
    :class:`~agentvault_registry.storage_backends.sqlite.SqliteRecords`, built on its
    ``_transaction()`` (``BEGIN IMMEDIATE``) and ``_fetch()``.

    Every write holds the file's write lock from its first statement to the commit, so the
    health bookkeeping's ``UPDATE ... RETURNING`` counts each failure once even when processes
    sharing the file record them at the same moment, and a batch of mirrored changes lands
    whole or not at all.
    """

    # ------------------------------------------------------------------- peers

    async def add_peer(self, peer: PeerRecord) -> PeerRecord:
        values = _encoded_peer(peer)
        async with self._transaction() as conn:
            with _unique_conflicts():
                rows = await conn.execute_fetchall(
                    f"INSERT INTO federation_peers ({', '.join(values)})"
                    f" VALUES ({', '.join('?' * len(values))}) RETURNING {_PEER_COLUMNS}",
                    tuple(values.values()),
                )
        return _decode_peer(next(iter(rows)))

    async def get_peer(self, peer_id: str) -> PeerRecord | None:
        rows = await self._fetch(
            f"SELECT {_PEER_COLUMNS} FROM federation_peers WHERE id = ?", (peer_id,)
        )
        return _decode_peer(rows[0]) if rows else None

    async def find_peer_by_token_digest(self, digest: str) -> PeerRecord | None:
        rows = await self._fetch(
            f"SELECT {_PEER_COLUMNS} FROM federation_peers WHERE inbound_token_digest = ?",
            (digest,),
        )
        return _decode_peer(rows[0]) if rows else None

    async def list_peers(self, statuses: Sequence[str] = PEER_STATUSES) -> list[PeerRecord]:
        statuses = tuple(statuses)
        # No status selected selects no peer ("IN ()" is not SQL).
        selected = f"status IN ({', '.join('?' * len(statuses))})" if statuses else "0"
        rows = await self._fetch(
            f"SELECT {_PEER_COLUMNS} FROM federation_peers WHERE {selected}"
            " ORDER BY created_at, id",
            statuses,
        )
        return [_decode_peer(row) for row in rows]

    async def update_peer(
        self, peer_id: str, changes: Mapping[str, Any], now: dt.datetime
    ) -> PeerRecord:
        values = peer_column_changes(changes)
        # Column names come from the allow-list, never from the caller.
        assignments = "".join(f"{column} = ?, " for column in values)
        async with self._transaction() as conn:
            with _unique_conflicts():
                rows = await conn.execute_fetchall(
                    f"UPDATE federation_peers SET {assignments}updated_at = ? WHERE id = ?"
                    f" RETURNING {_PEER_COLUMNS}",
                    (*values.values(), _text(now), peer_id),
                )
        if not rows:
            raise NotFound("No such peer.")
        return _decode_peer(next(iter(rows)))

    async def delete_peer(self, peer_id: str) -> bool:
        # The mirrored agents go by the foreign key's CASCADE, in the same statement.
        async with self._transaction() as conn:
            rows = await conn.execute_fetchall(
                "DELETE FROM federation_peers WHERE id = ? RETURNING 1", (peer_id,)
            )
        return bool(rows)

    # ------------------------------------------------------------------ health

    async def record_peer_success(
        self, peer_id: str, now: dt.datetime, latency_ms: float
    ) -> PeerRecord | None:
        return await self._update_peer_health(
            "UPDATE federation_peers SET last_seen_at = ?, last_latency_ms = ?,"
            f" consecutive_failures = 0, status = CASE WHEN status = '{PEER_UNHEALTHY}'"
            f" THEN '{PEER_ACTIVE}' ELSE status END WHERE id = ? RETURNING {_PEER_COLUMNS}",
            (_text(now), latency_ms, peer_id),
        )

    async def record_peer_failure(
        self, peer_id: str, now: dt.datetime, error: str, unhealthy_after: int
    ) -> PeerRecord | None:
        # The right-hand sides all read the row as it was: "consecutive_failures + 1" in the
        # CASE is the count this very update stores.
        return await self._update_peer_health(
            "UPDATE federation_peers SET consecutive_failures = consecutive_failures + 1,"
            " last_error = ?, last_failure_at = ?,"
            f" status = CASE WHEN status = '{PEER_ACTIVE}' AND consecutive_failures + 1 >= ?"
            f" THEN '{PEER_UNHEALTHY}' ELSE status END WHERE id = ? RETURNING {_PEER_COLUMNS}",
            (error, _text(now), unhealthy_after, peer_id),
        )

    async def _update_peer_health(self, sql: str, parameters: tuple[Any, ...]) -> PeerRecord | None:
        async with self._transaction() as conn:
            rows = await conn.execute_fetchall(sql, parameters)
        return _decode_peer(next(iter(rows))) if rows else None

    # ------------------------------------------------------------------ mirror

    async def apply_peer_changes(
        self,
        peer_id: str,
        upserts: Sequence[MirroredAgent],
        deleted_agent_ids: Sequence[str],
        cursor: int,
    ) -> int:
        check_upserts_belong_to(peer_id, upserts)
        rows = [_encoded_mirrored_agent(agent) for agent in upserts]
        async with self._transaction() as conn:
            # First: an unknown peer is refused before anything is written.
            advanced = await conn.execute_fetchall(
                "UPDATE federation_peers SET change_cursor = max(change_cursor, ?)"
                " WHERE id = ? RETURNING 1",
                (cursor, peer_id),
            )
            if not advanced:
                raise NotFound("No such peer.")
            await conn.executemany(_UPSERT_MIRRORED_AGENT, rows)
            await conn.executemany(
                "DELETE FROM federation_mirror WHERE peer_id = ? AND agent_id = ?",
                [(peer_id, agent_id) for agent_id in deleted_agent_ids],
            )
            counted = await conn.execute_fetchall(
                "SELECT count(*) FROM federation_mirror WHERE peer_id = ?", (peer_id,)
            )
        return next(iter(counted))[0]

    async def list_mirrored_agents(
        self, peer_id: str, *, limit: int, after_agent_id: str | None = None
    ) -> list[MirroredAgent]:
        if limit < 1:
            raise ValueError("limit must be positive")
        # Two statements rather than "? IS NULL OR ...", which would keep SQLite off the key.
        keyset, after = (
            ("", ()) if after_agent_id is None else (" AND agent_id > ?", (after_agent_id,))
        )
        rows = await self._fetch(
            f"SELECT {_MIRROR_COLUMNS} FROM federation_mirror WHERE peer_id = ?{keyset}"
            " ORDER BY agent_id LIMIT ?",
            (peer_id, *after, limit),
        )
        return [_decode_mirrored_agent(row) for row in rows]


# ------------------------------------------------------------------ helpers


@contextlib.contextmanager
def _unique_conflicts() -> Iterator[None]:
    """Turn a UNIQUE violation of a known column into ``Conflict`` naming the field."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        field = _PEER_UNIQUE_FIELDS.get(str(exc).removeprefix("UNIQUE constraint failed: "))
        if field is None:
            raise
        raise Conflict(f"The {field} is taken.", details={"field": field}) from None


def _encoded_peer(peer: PeerRecord) -> dict[str, Any]:
    values = {name: _encode(name, getattr(peer, name)) for name in PEER_FIELDS}
    values["name_lower"] = peer.name.lower()
    return values


def _encode(name: str, value: Any) -> Any:
    if name == "document":
        return json.dumps(value, default=_plain_mapping)
    if value is not None and name in _TIMESTAMP_FIELDS:
        return _text(value)
    return value


def _decode(name: str, value: Any) -> Any:
    if name == "document":
        return json.loads(value)
    if value is not None and name in _TIMESTAMP_FIELDS:
        return dt.datetime.fromisoformat(value)
    return value


def _decode_peer(row: Sequence[Any]) -> PeerRecord:
    return PeerRecord(
        **{name: _decode(name, value) for name, value in zip(PEER_FIELDS, row, strict=True)}
    )


def _encoded_mirrored_agent(agent: MirroredAgent) -> tuple[Any, ...]:
    return tuple(_encode(name, getattr(agent, name)) for name in MIRROR_FIELDS)


def _decode_mirrored_agent(row: Sequence[Any]) -> MirroredAgent:
    return MirroredAgent(
        **{name: _decode(name, value) for name, value in zip(MIRROR_FIELDS, row, strict=True)}
    )
