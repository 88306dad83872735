"""The onboarding records (bootstrap tokens) in SQLite.

``metadata`` is stored as JSON text; timestamps as fixed-width ISO-8601 UTC text, as for the
accounts (see :mod:`~agentvault_registry.storage_backends.sqlite_accounts`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import aiosqlite

from agentvault_registry.storage_backends.accounts import ApiKeyRecord
from agentvault_registry.storage_backends.agents import AgentEvent, AgentRecord
from agentvault_registry.storage_backends.onboarding import (
    UNKNOWN,
    BootstrapTokenPage,
    BootstrapTokenRecord,
    BootstrapTokenRefused,
    OnboardingRecords,
)
from agentvault_registry.storage_backends.sqlite_accounts import _insert, _text
from agentvault_registry.storage_backends.sqlite_agents import _plain_mapping, insert_agent

_TOKEN_FIELDS = tuple(item.name for item in dataclasses.fields(BootstrapTokenRecord))
_TOKEN_COLUMNS = ", ".join(_TOKEN_FIELDS)


class SqliteOnboarding(OnboardingRecords):
    """The onboarding part of
    :class:`~agentvault_registry.storage_backends.sqlite.SqliteRecords`, built on its
    ``_transaction()`` (``BEGIN IMMEDIATE``), ``_snapshot()`` and ``_fetch()``.

    A redemption holds the file's write lock from consuming the token to the commit, so no two
    callers, in this process or another sharing the file, can both consume one token.
    """

    async def add_bootstrap_token(self, token: BootstrapTokenRecord) -> None:
        values = _encode(token)
        async with self._transaction() as conn:
            await conn.execute(
                f"INSERT INTO bootstrap_tokens ({_TOKEN_COLUMNS})"
                f" VALUES ({', '.join('?' * len(values))})",
                values,
            )

    async def find_bootstrap_token(self, digest: str) -> BootstrapTokenRecord | None:
        rows = await self._fetch(
            f"SELECT {_TOKEN_COLUMNS} FROM bootstrap_tokens WHERE digest = ?", (digest,)
        )
        return _decode(rows[0]) if rows else None

    async def get_bootstrap_token(self, token_id: str) -> BootstrapTokenRecord | None:
        rows = await self._fetch(
            f"SELECT {_TOKEN_COLUMNS} FROM bootstrap_tokens WHERE id = ?", (token_id,)
        )
        return _decode(rows[0]) if rows else None

    async def list_bootstrap_tokens(
        self,
        creator_id: str,
        *,
        limit: int,
        after: tuple[dt.datetime, str] | None = None,
        offset: int = 0,
    ) -> BootstrapTokenPage:
        if limit < 1 or offset < 0:
            raise ValueError("limit must be positive, offset not negative")
        keyset, after_parameters = (
            ("", ())
            if after is None
            else (" AND (created_at, id) < (?, ?)", (_text(after[0]), after[1]))
        )
        async with self._snapshot() as conn:
            rows = await conn.execute_fetchall(
                f"SELECT {_TOKEN_COLUMNS} FROM bootstrap_tokens"
                f" WHERE creator_id = ?{keyset}"
                " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                (creator_id, *after_parameters, limit + 1, offset),
            )
            counted = await conn.execute_fetchall(
                "SELECT count(*) FROM bootstrap_tokens WHERE creator_id = ?",
                (creator_id,),
            )
        tokens = [_decode(row) for row in list(rows)[:limit]]
        last = tokens[-1] if len(rows) > limit else None
        return BootstrapTokenPage(
            tokens=tokens,
            total=next(iter(counted))[0],
            next_after=None if last is None else (last.created_at, last.id),
        )

    async def revoke_bootstrap_token(
        self, token_id: str, now: dt.datetime
    ) -> BootstrapTokenRecord | None:
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE bootstrap_tokens SET revoked_at = ? WHERE id = ?"
                " AND consumed = 0 AND revoked_at IS NULL",
                (_text(now), token_id),
            )
            rows = await conn.execute_fetchall(
                f"SELECT {_TOKEN_COLUMNS} FROM bootstrap_tokens WHERE id = ?", (token_id,)
            )
        return _decode(next(iter(rows))) if rows else None

    async def redeem_bootstrap_token(
        self,
        digest: str,
        now: dt.datetime,
        agent: AgentRecord,
        event: AgentEvent,
        api_key: ApiKeyRecord,
    ) -> AgentRecord:
        async with self._transaction() as conn:
            consumed = await conn.execute_fetchall(
                "UPDATE bootstrap_tokens SET consumed = 1, consumed_at = ?1"
                " WHERE digest = ?2 AND creator_id = ?3 AND consumed = 0"
                " AND revoked_at IS NULL AND expires_at > ?1 RETURNING id",
                (_text(now), digest, agent.developer_id),
            )
            if not consumed:
                raise BootstrapTokenRefused(await _refusal(conn, digest, agent.developer_id, now))
            stored = await insert_agent(conn, agent, event)
            # Only now: the foreign key wants the agent's row to exist.
            await conn.execute(
                "UPDATE bootstrap_tokens SET consumed_by_agent_id = ? WHERE id = ?",
                (stored.id, next(iter(consumed))[0]),
            )
            await _insert(conn, "api_keys", api_key)
        return stored

    async def purge_bootstrap_tokens(self, expired_before: dt.datetime) -> int:
        async with self._transaction() as conn:
            # "consumed = 0" as the partial index states it, so SQLite uses the index.
            rows = await conn.execute_fetchall(
                "DELETE FROM bootstrap_tokens WHERE consumed = 0 AND expires_at < ? RETURNING 1",
                (_text(expired_before),),
            )
        return len(list(rows))


# ------------------------------------------------------------------ helpers


async def _refusal(
    conn: aiosqlite.Connection, digest: str, developer_id: str, now: dt.datetime
) -> str:
    """Why the token with ``digest`` could not be consumed for ``developer_id``'s agent; read
    in the redemption's write transaction, so it is the state the consuming update saw."""
    rows = await conn.execute_fetchall(
        f"SELECT {_TOKEN_COLUMNS} FROM bootstrap_tokens WHERE digest = ?", (digest,)
    )
    token = _decode(next(iter(rows))) if rows else None
    # Someone else's token is "unknown": a caller learns nothing about tokens not theirs.
    if token is None or token.creator_id != developer_id:
        return UNKNOWN
    return token.refusal(now) or UNKNOWN


def _encode(token: BootstrapTokenRecord) -> tuple[Any, ...]:
    values = []
    for name in _TOKEN_FIELDS:
        value = getattr(token, name)
        if name == "metadata":
            value = json.dumps(value, default=_plain_mapping)
        elif isinstance(value, dt.datetime):
            value = _text(value)
        values.append(value)
    return tuple(values)


def _decode(row: Sequence[Any]) -> BootstrapTokenRecord:
    values: dict[str, Any] = {}
    for name, value in zip(_TOKEN_FIELDS, row, strict=True):
        if name == "metadata":
            value = json.loads(value)
        elif name == "consumed":
            value = bool(value)
        elif value is not None and name.endswith("_at"):
            value = dt.datetime.fromisoformat(value)
        values[name] = value
    return BootstrapTokenRecord(**values)
