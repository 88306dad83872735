"""The accounts records (users, refresh tokens, one-time tokens, API keys) in PostgreSQL."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentvault_registry.core.errors import Conflict, NotFound
from agentvault_registry.storage_backends.accounts import (
    ADMIN_ROLE,
    USER_UPDATABLE_FIELDS,
    AccountsRecords,
    ApiKeyRecord,
    NoActiveAdminLeft,
    OneTimeTokenRecord,
    RefreshTokenRecord,
    SessionStatus,
    UserFilter,
    UserPage,
    UserRecord,
    ends_an_admin,
)

if TYPE_CHECKING:
    import asyncpg

_USER_COLUMNS = (
    "id, email, username, password_hash, role, is_active, is_verified, created_at, updated_at"
)
_REFRESH_COLUMNS = "jti, family_id, user_id, issued_at, expires_at, used_at, revoked_at"
_API_KEY_COLUMNS = (
    "id, user_id, name, digest, prefix, scopes, created_at, expires_at, last_used_at, revoked_at,"
    " agent_id"
)
#: The unique constraints of ``users`` (see migration 0002) and the field each protects.
_USER_UNIQUE_FIELDS = {"users_email_unique": "email", "users_username_unique": "username"}


def _unique_violation() -> type[Exception]:
    # asyncpg is imported lazily, like in postgresql.py; a query only runs after open()
    # has proved it is installed.
    return importlib.import_module("asyncpg").UniqueViolationError


class PostgresAccounts(AccountsRecords):
    """The accounts part of
    :class:`~agentvault_registry.storage_backends.postgresql.PostgresRecords`, built on its
    ``connection()``.

    Everything goes to the primary, reads included: a replica that lags could show a token
    as unused right after it was used, or miss a user who just signed up. Each use-once
    operation is one ``UPDATE ... RETURNING``; PostgreSQL re-checks its ``WHERE`` after waiting
    for a concurrent update of the row, so of racing callers only the first gets the row.
    """

    # ------------------------------------------------------------------- users

    async def create_user(self, user: UserRecord) -> UserRecord:
        async with self.connection() as conn:
            try:
                row = await conn.fetchrow(
                    "INSERT INTO users (id, email, email_lower, username, username_lower,"
                    " password_hash, role, is_active, is_verified, created_at, updated_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                    f" RETURNING {_USER_COLUMNS}",
                    user.id,
                    user.email,
                    user.email.lower(),
                    user.username,
                    user.username.lower(),
                    user.password_hash,
                    user.role,
                    user.is_active,
                    user.is_verified,
                    user.created_at,
                    user.updated_at,
                )
            except _unique_violation() as exc:
                field = _USER_UNIQUE_FIELDS.get(getattr(exc, "constraint_name", None))
                if field is None:
                    raise
                raise Conflict(f"The {field} is taken.", details={"field": field}) from None
        return UserRecord(**row)

    async def get_user(self, user_id: str) -> UserRecord | None:
        async with self.connection() as conn:
            row = await conn.fetchrow(f"SELECT {_USER_COLUMNS} FROM users WHERE id = $1", user_id)
        return UserRecord(**row) if row else None

    async def find_user_by_login(self, login: str) -> UserRecord | None:
        # Should one user's email be another's username, the email match wins.
        async with self.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_USER_COLUMNS} FROM users WHERE email_lower = $1 OR username_lower = $1"
                " ORDER BY email_lower = $1 DESC LIMIT 1",
                login.lower(),
            )
        return UserRecord(**row) if row else None

    async def list_users(self, *, limit: int = 100, after: str | None = None) -> list[UserRecord]:
        # Two statements rather than "$2 IS NULL OR ...", which would keep a prepared
        # statement's generic plan off the index.
        keyset, after_lower = (
            ("", ()) if after is None else ("WHERE username_lower > $2 ", (after.lower(),))
        )
        async with self.connection() as conn:
            rows = await conn.fetch(
                f"SELECT {_USER_COLUMNS} FROM users {keyset}ORDER BY username_lower LIMIT $1",
                limit,
                *after_lower,
            )
        return [UserRecord(**row) for row in rows]

    async def page_users(
        self,
        user_filter: UserFilter,
        *,
        limit: int,
        after: tuple[dt.datetime, str] | None = None,
        offset: int = 0,
    ) -> UserPage:
        if limit < 1 or offset < 0:
            raise ValueError("limit must be positive, offset not negative")
        matches, parameters = _user_conditions(user_filter)
        keyset, after_parameters = (
            ("", ())
            if after is None
            else (
                f" AND (created_at, id) < (${len(parameters) + 1}, ${len(parameters) + 2})",
                after,
            )
        )
        numbered = len(parameters) + len(after_parameters)
        # One repeatable-read transaction: the page and its total see the same users.
        async with (
            self.connection() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            rows = await conn.fetch(
                f"SELECT {_USER_COLUMNS} FROM users WHERE {matches}{keyset}"
                f" ORDER BY created_at DESC, id DESC LIMIT ${numbered + 1} OFFSET ${numbered + 2}",
                *parameters,
                *after_parameters,
                limit + 1,
                offset,
            )
            total = await conn.fetchval(f"SELECT count(*) FROM users WHERE {matches}", *parameters)
        users = [UserRecord(**row) for row in rows[:limit]]
        last = users[-1] if len(rows) > limit else None
        return UserPage(
            users=users,
            total=total,
            next_after=None if last is None else (last.created_at, last.id),
        )

    async def update_user(self, user_id: str, now: dt.datetime, **changes: object) -> UserRecord:
        async with self.connection() as conn:
            return await _update_user(conn, user_id, now, changes)

    async def update_user_keeping_an_admin(
        self, user_id: str, now: dt.datetime, **changes: object
    ) -> tuple[UserRecord, UserRecord]:
        async with self.connection() as conn, conn.transaction():
            # Lock every active admin, in one order so two callers never deadlock. A caller
            # that waited re-reads each locked row as committed, so once another transaction
            # has demoted an admin, this one no longer counts it.
            admins = await conn.fetch(
                "SELECT id FROM users WHERE role = $1 AND is_active ORDER BY id FOR UPDATE",
                ADMIN_ROLE,
            )
            row = await conn.fetchrow(
                f"SELECT {_USER_COLUMNS} FROM users WHERE id = $1 FOR UPDATE", user_id
            )
            if row is None:
                raise NotFound("No such user.")
            before = UserRecord(**row)
            if ends_an_admin(before, changes) and all(admin["id"] == user_id for admin in admins):
                raise NoActiveAdminLeft()
            return before, await _update_user(conn, user_id, now, changes)

    # ---------------------------------------------------------- refresh tokens

    async def add_refresh_token(self, token: RefreshTokenRecord) -> None:
        async with self.connection() as conn:
            await conn.execute(
                f"INSERT INTO refresh_tokens ({_REFRESH_COLUMNS})"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                token.jti,
                token.family_id,
                token.user_id,
                token.issued_at,
                token.expires_at,
                token.used_at,
                token.revoked_at,
            )

    async def use_refresh_token(self, jti: str, now: dt.datetime) -> RefreshTokenRecord | None:
        async with self.connection() as conn:
            row = await conn.fetchrow(
                "UPDATE refresh_tokens SET used_at = $2 WHERE jti = $1 AND used_at IS NULL"
                " AND revoked_at IS NULL AND expires_at > $2 AND NOT EXISTS (SELECT 1"
                " FROM refresh_tokens r WHERE r.family_id = refresh_tokens.family_id"
                f" AND r.revoked_at IS NOT NULL) RETURNING {_REFRESH_COLUMNS}",
                jti,
                now,
            )
        return RefreshTokenRecord(**row) if row else None

    async def get_refresh_token(self, jti: str) -> RefreshTokenRecord | None:
        async with self.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_REFRESH_COLUMNS} FROM refresh_tokens WHERE jti = $1", jti
            )
        return RefreshTokenRecord(**row) if row else None

    async def revoke_refresh_family(self, family_id: str, now: dt.datetime) -> int:
        async with self.connection() as conn:
            rows = await conn.fetch(
                "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1"
                " AND revoked_at IS NULL RETURNING 1",
                family_id,
                now,
            )
        return len(rows)

    async def revoke_user_refresh_tokens(
        self, user_id: str, now: dt.datetime, *, except_family: str | None = None
    ) -> list[str]:
        async with self.connection() as conn:
            rows = await conn.fetch(
                "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1"
                " AND revoked_at IS NULL AND family_id IS DISTINCT FROM $3 RETURNING family_id",
                user_id,
                now,
                except_family,
            )
        return sorted({row["family_id"] for row in rows})

    async def refresh_family_revoked(self, family_id: str) -> bool:
        async with self.connection() as conn:
            return await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM refresh_tokens"
                " WHERE family_id = $1 AND revoked_at IS NOT NULL)",
                family_id,
            )

    async def session_status(self, user_id: str, family_id: str) -> SessionStatus | None:
        async with self.connection() as conn:
            row = await conn.fetchrow(
                "SELECT role, is_active, EXISTS (SELECT 1 FROM refresh_tokens"
                " WHERE family_id = $2 AND revoked_at IS NOT NULL) AS revoked"
                " FROM users WHERE id = $1",
                user_id,
                family_id,
            )
        return SessionStatus(**row) if row else None

    # --------------------------------------------------------- one-time tokens

    async def add_one_time_token(self, token: OneTimeTokenRecord) -> None:
        async with self.connection() as conn:
            await conn.execute(
                "INSERT INTO one_time_tokens"
                " (digest, purpose, user_id, created_at, expires_at, used_at)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                token.digest,
                token.purpose,
                token.user_id,
                token.created_at,
                token.expires_at,
                token.used_at,
            )

    async def use_one_time_token(self, digest: str, purpose: str, now: dt.datetime) -> str | None:
        async with self.connection() as conn:
            return await conn.fetchval(
                "UPDATE one_time_tokens SET used_at = $3 WHERE digest = $1 AND purpose = $2"
                " AND used_at IS NULL AND expires_at > $3 RETURNING user_id",
                digest,
                purpose,
                now,
            )

    async def discard_one_time_tokens(
        self, user_id: str, purpose: str, *, keep: str | None = None
    ) -> int:
        async with self.connection() as conn:
            rows = await conn.fetch(
                "DELETE FROM one_time_tokens WHERE user_id = $1 AND purpose = $2"
                " AND used_at IS NULL AND digest IS DISTINCT FROM $3 RETURNING 1",
                user_id,
                purpose,
                keep,
            )
        return len(rows)

    # ---------------------------------------------------------------- API keys

    async def add_api_key(self, key: ApiKeyRecord) -> None:
        async with self.connection() as conn:
            await insert_api_key(conn, key)

    async def list_api_keys(self, user_id: str) -> list[ApiKeyRecord]:
        async with self.connection() as conn:
            rows = await conn.fetch(
                f"SELECT {_API_KEY_COLUMNS} FROM api_keys"
                " WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at, id",
                user_id,
            )
        return [_api_key(row) for row in rows]

    async def find_api_key(self, digest: str) -> ApiKeyRecord | None:
        async with self.connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_API_KEY_COLUMNS} FROM api_keys WHERE digest = $1", digest
            )
        return _api_key(row) if row else None

    async def revoke_api_key(self, key_id: str, user_id: str, now: dt.datetime) -> bool:
        async with self.connection() as conn:
            revoked = await conn.fetchval(
                "UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND user_id = $2"
                " AND revoked_at IS NULL RETURNING true",
                key_id,
                user_id,
                now,
            )
        return bool(revoked)

    async def revoke_user_api_keys(self, user_id: str, now: dt.datetime) -> int:
        async with self.connection() as conn:
            rows = await conn.fetch(
                "UPDATE api_keys SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL"
                " RETURNING 1",
                user_id,
                now,
            )
        return len(rows)

    async def touch_api_key(self, key_id: str, now: dt.datetime) -> None:
        async with self.connection() as conn:
            await conn.execute("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", key_id, now)


def _user_conditions(user_filter: UserFilter) -> tuple[str, list[Any]]:
    """The WHERE conditions (never empty) and parameters ($1, $2 ...) of ``user_filter``."""
    conditions, parameters = ["true"], []
    if user_filter.text is not None:
        parameters.append(user_filter.text.lower())
        # strpos, not LIKE: the text's '%' and '_' are plain characters.
        number = len(parameters)
        conditions.append(
            f"(strpos(username_lower, ${number}) > 0 OR strpos(email_lower, ${number}) > 0)"
        )
    if user_filter.role is not None:
        parameters.append(user_filter.role)
        conditions.append(f"role = ${len(parameters)}")
    if user_filter.is_active is not None:
        parameters.append(user_filter.is_active)
        conditions.append(f"is_active = ${len(parameters)}")
    return " AND ".join(conditions), parameters


async def _update_user(
    conn: asyncpg.Connection, user_id: str, now: dt.datetime, changes: dict[str, object]
) -> UserRecord:
    unknown = set(changes) - USER_UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"users have no updatable field(s) {sorted(unknown)}")
    # Column names come from the allow-list above, never from the caller.
    assignments = "".join(f"{field} = ${number}, " for number, field in enumerate(changes, start=3))
    row = await conn.fetchrow(
        f"UPDATE users SET {assignments}updated_at = $2 WHERE id = $1 RETURNING {_USER_COLUMNS}",
        user_id,
        now,
        *changes.values(),
    )
    if row is None:
        raise NotFound("No such user.")
    return UserRecord(**row)


async def insert_api_key(conn: asyncpg.Connection, key: ApiKeyRecord) -> None:
    """Record ``key`` on ``conn``, inside whatever transaction the caller holds."""
    await conn.execute(
        f"INSERT INTO api_keys ({_API_KEY_COLUMNS})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        key.id,
        key.user_id,
        key.name,
        key.digest,
        key.prefix,
        list(key.scopes),
        key.created_at,
        key.expires_at,
        key.last_used_at,
        key.revoked_at,
        key.agent_id,
    )


def _api_key(row: Mapping[str, Any]) -> ApiKeyRecord:
    return ApiKeyRecord(**{**row, "scopes": tuple(row["scopes"])})
