"""The federation records (peer registries and mirrors of their agents) in PostgreSQL.

A mirrored agent's ``document`` is ``jsonb``, sent and read as JSON text, as for the agents
(see :mod:`~agentvault_registry.storage_backends.postgresql_agents`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
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
from agentvault_registry.storage_backends.postgresql_agents import _plain_mapping
from agentvault_registry.storage_backends.postgresql_onboarding import _aware

_PEER_COLUMNS = ", ".join(PEER_FIELDS)
_MIRROR_COLUMNS = ", ".join(MIRROR_FIELDS)
#: The unique constraints of ``federation_peers`` (see migration 0006) and the field each
#: protects.
_PEER_UNIQUE_FIELDS = {
    "federation_peers_name_unique": "name",
    "federation_peers_registry_url_unique": "registry_url",
    "federation_peers_inbound_token_digest_unique": "inbound_token_digest",
}
_UPSERT_MIRRORED_AGENT = (
    f"INSERT INTO federation_mirror ({_MIRROR_COLUMNS})"
    f" VALUES ({', '.join(f'${number}' for number in range(1, len(MIRROR_FIELDS) + 1))})"
    f" ON CONFLICT ({', '.join(MIRROR_KEY)}) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in MIRROR_FIELDS if name not in MIRROR_KEY)
    # A slower, older sync never replaces what a newer one stored.
    + " WHERE federation_mirror.seq < excluded.seq"
)


class PostgresFederation(FederationRecords):
    """The federation part of
    :class:`~agentvault_registry.storage_backends.postgresql.PostgresRecords`, built on its
    ``connection()``.

    Everything goes to the primary: a replica that lags could miss a peer just added, or show
    a change cursor behind the mirror it describes. The health bookkeeping is one
    ``UPDATE ... RETURNING`` per call: under READ COMMITTED, an update that waited for a
    concurrent one's row lock recomputes its ``SET`` from the row that one committed, so every
    failure counts and the status flips at the count that reached the threshold.
    """

    # ------------------------------------------------------------------- peers

    async def add_peer(self, peer: PeerRecord) -> PeerRecord:
        values = _encoded_peer(peer)
        placeholders = ", ".join(f"${number}" for number in range(1, len(values) + 1))
        async with self.connection() as conn:
            with _unique_conflicts():
                row = await conn.fetchrow(
                    f"INSERT INTO federation_peers ({', '.join(values)}) VALUES ({placeholders})"
                    f" RETURNING {_PEER_COLUMNS}",
                    *values.values(),
                )
        return PeerRecord(**row)

    async def get_peer(self, peer_id: str) -> PeerRecord | None:
        async with self.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_PEER_COLUMNS} FROM federation_peers WHERE id = $1", peer_id
            )
        return PeerRecord(**row) if row else None

    async def find_peer_by_token_digest(self, digest: str) -> PeerRecord | None:
        async with self.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_PEER_COLUMNS} FROM federation_peers WHERE inbound_token_digest = $1",
                digest,
            )
        return PeerRecord(**row) if row else None

    async def list_peers(self, statuses: Sequence[str] = PEER_STATUSES) -> list[PeerRecord]:
        # An empty status list selects no peer.
        async with self.connection() as conn:
            rows = await conn.fetch(
                f"SELECT {_PEER_COLUMNS} FROM federation_peers WHERE status = ANY($1::text[])"
                " ORDER BY created_at, id",
                list(statuses),
            )
        return [PeerRecord(**row) for row in rows]

    async def update_peer(
        self, peer_id: str, changes: Mapping[str, Any], now: dt.datetime
    ) -> PeerRecord:
        values = peer_column_changes(changes)
        # Column names come from the allow-list, never from the caller.
        assignments = "".join(
            f"{column} = ${number}, " for number, column in enumerate(values, start=3)
        )
        async with self.connection() as conn:
            with _unique_conflicts():
                row = await conn.fetchrow(
                    f"UPDATE federation_peers SET {assignments}updated_at = $2 WHERE id = $1"
                    f" RETURNING {_PEER_COLUMNS}",
                    peer_id,
                    _aware(now),
                    *values.values(),
                )
        if row is None:
            raise NotFound("No such peer.")
        return PeerRecord(**row)

    async def delete_peer(self, peer_id: str) -> bool:
        # The mirrored agents go by the foreign key's CASCADE, in the same statement.
        async with self.connection() as conn:
            deleted = await conn.fetchval(
                "DELETE FROM federation_peers WHERE id = $1 RETURNING true", peer_id
            )
        return bool(deleted)

    # ------------------------------------------------------------------ health

    async def record_peer_success(
        self, peer_id: str, now: dt.datetime, latency_ms: float
    ) -> PeerRecord | None:
        return await self._update_peer_health(
            "UPDATE federation_peers SET last_seen_at = $2, last_latency_ms = $3,"
            f" consecutive_failures = 0, status = CASE WHEN status = '{PEER_UNHEALTHY}'"
            f" THEN '{PEER_ACTIVE}' ELSE status END WHERE id = $1 RETURNING {_PEER_COLUMNS}",
            peer_id,
            _aware(now),
            latency_ms,
        )

    async def record_peer_failure(
        self, peer_id: str, now: dt.datetime, error: str, unhealthy_after: int
    ) -> PeerRecord | None:
        # The right-hand sides all read the row as it was: "consecutive_failures + 1" in the
        # CASE is the count this very update stores.
        return await self._update_peer_health(
            "UPDATE federation_peers SET consecutive_failures = consecutive_failures + 1,"
            " last_error = $2, last_failure_at = $3,"
            f" status = CASE WHEN status = '{PEER_ACTIVE}' AND consecutive_failures + 1 >= $4"
            f" THEN '{PEER_UNHEALTHY}' ELSE status END WHERE id = $1 RETURNING {_PEER_COLUMNS}",
            peer_id,
            error,
            _aware(now),
            unhealthy_after,
        )

    async def _update_peer_health(self, sql: str, *parameters: Any) -> PeerRecord | None:
        # Recomputing from the committed row is READ COMMITTED's; under a stricter server
        # default, racing updates would fail instead of counting.
        async with self.connection() as conn, conn.transaction(isolation="read_committed"):
            row = await conn.fetchrow(sql, *parameters)
        return PeerRecord(**row) if row else None

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
        async with self.connection() as conn, conn.transaction(isolation="read_committed"):
            # First: an unknown peer is refused before anything is written, and the peer's row
            # lock, held to commit, queues concurrent batches of one peer (and its deletion)
            # behind this one; GREATEST then reads the cursor the previous batch committed.
            advanced = await conn.fetchval(
                "UPDATE federation_peers SET change_cursor = GREATEST(change_cursor, $2)"
                " WHERE id = $1 RETURNING true",
                peer_id,
                cursor,
            )
            if not advanced:
                raise NotFound("No such peer.")
            if rows:
                await conn.executemany(_UPSERT_MIRRORED_AGENT, rows)
            if deleted_agent_ids:
                await conn.execute(
                    "DELETE FROM federation_mirror WHERE peer_id = $1"
                    " AND agent_id = ANY($2::text[])",
                    peer_id,
                    list(deleted_agent_ids),
                )
            return await conn.fetchval(
                "SELECT count(*) FROM federation_mirror WHERE peer_id = $1", peer_id
            )

    async def list_mirrored_agents(
        self, peer_id: str, *, limit: int, after_agent_id: str | None = None
    ) -> list[MirroredAgent]:
        if limit < 1:
            raise ValueError("limit must be positive")
        # Two statements rather than "$3 IS NULL OR ...", which would keep a prepared
        # statement's generic plan off the key.
        keyset, after = (
            ("", ()) if after_agent_id is None else (" AND agent_id > $3", (after_agent_id,))
        )
        async with self.connection() as conn:
            rows = await conn.fetch(
                f"SELECT {_MIRROR_COLUMNS} FROM federation_mirror WHERE peer_id = $1{keyset}"
                " ORDER BY agent_id LIMIT $2",
                peer_id,
                limit,
                *after,
            )
        return [MirroredAgent(**{**row, "document": json.loads(row["document"])}) for row in rows]


# ------------------------------------------------------------------ helpers


@contextlib.contextmanager
def _unique_conflicts() -> Iterator[None]:
    """Turn a violation of a known unique constraint into ``Conflict`` naming the field."""
    # asyncpg is imported lazily, like in postgresql.py; a query only runs after open()
    # has proved it is installed.
    unique_violation = importlib.import_module("asyncpg").UniqueViolationError
    try:
        yield
    except unique_violation as exc:
        field = _PEER_UNIQUE_FIELDS.get(getattr(exc, "constraint_name", None))
        if field is None:
            raise
        raise Conflict(f"The {field} is taken.", details={"field": field}) from None


def _encoded_peer(peer: PeerRecord) -> dict[str, Any]:
    values = {name: _encode(getattr(peer, name)) for name in PEER_FIELDS}
    values["name_lower"] = peer.name.lower()
    return values


def _encode(value: Any) -> Any:
    return _aware(value) if isinstance(value, dt.datetime) else value


def _encoded_mirrored_agent(agent: MirroredAgent) -> tuple[Any, ...]:
    values = {name: _encode(getattr(agent, name)) for name in MIRROR_FIELDS}
    values["document"] = json.dumps(agent.document, default=_plain_mapping)
    return tuple(values.values())
