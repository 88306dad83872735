"""The onboarding records (bootstrap tokens) in PostgreSQL.

``metadata`` is ``jsonb``, sent and read as JSON text, as for the agents (see
:mod:`~agentvault_registry.storage_backends.postgresql_agents`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentvault_registry.storage_backends.accounts import ApiKeyRecord
from agentvault_registry.storage_backends.agents import AgentEvent, AgentRecord
from agentvault_registry.storage_backends.onboarding import (
    UNKNOWN,
    BootstrapTokenPage,
    BootstrapTokenRecord,
    BootstrapTokenRefused,
    OnboardingRecords,
)
from agentvault_registry.storage_backends.postgresql_accounts import insert_api_key
from agentvault_registry.storage_backends.postgresql_agents import _plain_mapping, insert_agent

if TYPE_CHECKING:
    import asyncpg

_TOKEN_FIELDS = tuple(item.name for item in dataclasses.fields(BootstrapTokenRecord))
_TOKEN_COLUMNS = ", ".join(_TOKEN_FIELDS)


class PostgresOnboarding(OnboardingRecords):
    """The onboarding part of
    :class:`~agentvault_registry.storage_backends.postgresql.PostgresRecords`, built on its
    ``connection()``.

    Everything goes to the primary: a replica that lags could show a token as unconsumed, or
    miss one just minted. Consuming a token is one ``UPDATE ... WHERE NOT consumed``: under
    READ COMMITTED, PostgreSQL re-checks the ``WHERE`` after waiting for a concurrent
    redemption's row lock, so of racing redemptions only the first consumes the token, and
    the others see it consumed (or usable again, if the first rolled back).
    """

    async def add_bootstrap_token(self, token: BootstrapTokenRecord) -> None:
        values = _encode(token)
        placeholders = ", ".join(f"${number}" for number in range(1, len(values) + 1))
        async with self.connection() as conn:
            await conn.execute(
                f"INSERT INTO bootstrap_tokens ({_TOKEN_COLUMNS}) VALUES ({placeholders})",
                *values,
            )

    async def find_bootstrap_token(self, digest: str) -> BootstrapTokenRecord | None:
        async with self.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_TOKEN_COLUMNS} FROM bootstrap_tokens WHERE digest = $1", digest
            )
        return _decode(row) if row else None

    async def get_bootstrap_token(self, token_id: str) -> BootstrapTokenRecord | None:
        async with self.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_TOKEN_COLUMNS} FROM bootstrap_tokens WHERE id = $1", token_id
            )
        return _decode(row) if row else None

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
        keyset, after_parameters = ("", ())
        if after is not None:
            keyset = " AND (created_at, id) < ($4, $5)"
            after_parameters = (_aware(after[0]), after[1])
        async with (
            self.connection() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            # One snapshot: the page and the count see the same database.
            rows = await conn.fetch(
                f"SELECT {_TOKEN_COLUMNS} FROM bootstrap_tokens WHERE creator_id = $1{keyset}"
                " ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
                creator_id,
                limit + 1,
                offset,
                *after_parameters,
            )
            count = await conn.fetchval(
                "SELECT count(*) FROM bootstrap_tokens WHERE creator_id = $1", creator_id
            )
        tokens = [_decode(row) for row in rows[:limit]]
        last = tokens[-1] if len(rows) > limit else None
        return BootstrapTokenPage(
            tokens=tokens,
            total=count,
            next_after=None if last is None else (last.created_at, last.id),
        )

    async def revoke_bootstrap_token(
        self, token_id: str, now: dt.datetime
    ) -> BootstrapTokenRecord | None:
        # The conditional UPDATE relies on READ COMMITTED re-checking its WHERE after a
        # concurrent writer commits; under a stricter server default, losers would fail.
        async with self.connection() as conn, conn.transaction(isolation="read_committed"):
            await conn.execute(
                "UPDATE bootstrap_tokens SET revoked_at = $2 WHERE id = $1"
                " AND NOT consumed AND revoked_at IS NULL",
                token_id,
                _aware(now),
            )
            row = await conn.fetchrow(
                f"SELECT {_TOKEN_COLUMNS} FROM bootstrap_tokens WHERE id = $1", token_id
            )
        return _decode(row) if row else None

    async def redeem_bootstrap_token(
        self,
        digest: str,
        now: dt.datetime,
        agent: AgentRecord,
        event: AgentEvent,
        api_key: ApiKeyRecord,
    ) -> AgentRecord:
        # The conditional UPDATE relies on READ COMMITTED re-checking its WHERE after a
        # concurrent writer commits; under a stricter server default, losers would fail.
        async with self.connection() as conn, conn.transaction(isolation="read_committed"):
            # First, so that racing redemptions queue on the token's row lock, not on the
            # event lock insert_agent takes, and the losers insert nothing.
            token_id = await conn.fetchval(
                "UPDATE bootstrap_tokens SET consumed = true, consumed_at = $2"
                " WHERE digest = $1 AND creator_id = $3 AND NOT consumed"
                " AND revoked_at IS NULL AND expires_at > $2 RETURNING id",
                digest,
                _aware(now),
                agent.developer_id,
            )
            if token_id is None:
                raise BootstrapTokenRefused(await _refusal(conn, digest, agent.developer_id, now))
            stored = await insert_agent(conn, agent, event)
            # Only now: the foreign key wants the agent's row to exist.
            await conn.execute(
                "UPDATE bootstrap_tokens SET consumed_by_agent_id = $2 WHERE id = $1",
                token_id,
                stored.id,
            )
            await insert_api_key(conn, api_key)
        return stored

    async def purge_bootstrap_tokens(self, expired_before: dt.datetime) -> int:
        async with self.connection() as conn:
            status = await conn.execute(
                "DELETE FROM bootstrap_tokens WHERE NOT consumed AND expires_at < $1",
                _aware(expired_before),
            )
        # The command tag, "DELETE <count>": no row travels back.
        return int(status.rsplit(" ", 1)[1])


# ------------------------------------------------------------------ helpers


async def _refusal(
    conn: asyncpg.Connection, digest: str, developer_id: str, now: dt.datetime
) -> str:
    """Why the token with ``digest`` could not be consumed for ``developer_id``'s agent.

    Read by a later statement than the update's, so it sees what a racing redemption
    committed meanwhile: the loser of a race reads the token consumed."""
    row = await conn.fetchrow(
        f"SELECT {_TOKEN_COLUMNS} FROM bootstrap_tokens WHERE digest = $1", digest
    )
    # Someone else's token is "unknown": a caller learns nothing about tokens not theirs.
    if row is None or row["creator_id"] != developer_id:
        return UNKNOWN
    # Usable now only if it was minted after the update looked: it was unknown to it.
    return _decode(row).refusal(now) or UNKNOWN


def _encode(token: BootstrapTokenRecord) -> list[Any]:
    values = []
    for name in _TOKEN_FIELDS:
        value = getattr(token, name)
        if name == "metadata":
            value = json.dumps(value, default=_plain_mapping)
        elif isinstance(value, dt.datetime):
            value = _aware(value)
        values.append(value)
    return values


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.utcoffset() is None:
        # asyncpg would take a naive datetime as UTC; its zone is a guess.
        raise ValueError(f"timestamps must be timezone-aware, got {moment!r}")
    return moment


def _decode(row: Mapping[str, Any]) -> BootstrapTokenRecord:
    return BootstrapTokenRecord(**{**row, "metadata": json.loads(row["metadata"])})
