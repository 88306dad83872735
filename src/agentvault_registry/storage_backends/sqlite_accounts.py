"""The accounts records (users, refresh tokens, one-time tokens, API keys) in SQLite.

Timestamps are stored as ISO-8601 UTC text of one fixed width, so SQL compares them as text
exactly as it would compare the instants, and they read back as aware UTC datetimes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from typing import Any, TypeVar

import aiosqlite

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

_Record = TypeVar("_Record")

#: SQLite names the columns, not the constraint, of a failed UNIQUE constraint.
_USER_UNIQUE_FIELDS = {"users.email_lower": "email", "users.username_lower": "username"}
#: A token of a family any of whose tokens is revoked is never usable (a refresh racing a logout
#: must not mint a live token into the revoked family).
_FAMILY_NOT_REVOKED = (
    "NOT EXISTS (SELECT 1 FROM refresh_tokens r"
    " WHERE r.family_id = refresh_tokens.family_id AND r.revoked_at IS NOT NULL)"
)


class SqliteAccounts(AccountsRecords):
    """The accounts part of :class:`~agentvault_registry.storage_backends.sqlite.SqliteRecords`,
    built on its ``_transaction()`` (``BEGIN IMMEDIATE``) and ``_fetch()``.

    Each use-once operation is one ``UPDATE ... RETURNING`` inside a write transaction, so no
    two callers, in this process or another sharing the file, can both consume a token.
    """

    # ------------------------------------------------------------------- users

    async def create_user(self, user: UserRecord) -> UserRecord:
        async with self._transaction() as conn:
            try:
                return await _insert(
                    conn,
                    "users",
                    user,
                    email_lower=user.email.lower(),
                    username_lower=user.username.lower(),
                )
            except sqlite3.IntegrityError as exc:
                field = _USER_UNIQUE_FIELDS.get(str(exc).removeprefix("UNIQUE constraint failed: "))
                if field is None:
                    raise
                raise Conflict(f"The {field} is taken.", details={"field": field}) from None

    async def get_user(self, user_id: str) -> UserRecord | None:
        return await self._fetch_one(
            UserRecord, f"SELECT {_columns(UserRecord)} FROM users WHERE id = ?", (user_id,)
        )

    async def find_user_by_login(self, login: str) -> UserRecord | None:
        # Should one user's email be another's username, the email match wins.
        return await self._fetch_one(
            UserRecord,
            f"SELECT {_columns(UserRecord)} FROM users"
            " WHERE email_lower = ?1 OR username_lower = ?1 ORDER BY email_lower = ?1 DESC LIMIT 1",
            (login.lower(),),
        )

    async def list_users(self, *, limit: int = 100, after: str | None = None) -> list[UserRecord]:
        # Two statements rather than "?2 IS NULL OR ...", which would keep SQLite off the index.
        keyset, after_lower = (
            ("", ()) if after is None else ("WHERE username_lower > ?2 ", (after.lower(),))
        )
        rows = await self._fetch(
            f"SELECT {_columns(UserRecord)} FROM users {keyset}ORDER BY username_lower LIMIT ?1",
            (limit, *after_lower),
        )
        return [_decode(UserRecord, row) for row in rows]

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
            else (" AND (created_at, id) < (?, ?)", (_text(after[0]), after[1]))
        )
        async with self._snapshot() as conn:
            rows = list(
                await conn.execute_fetchall(
                    f"SELECT {_columns(UserRecord)} FROM users WHERE {matches}{keyset}"
                    " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                    (*parameters, *after_parameters, limit + 1, offset),
                )
            )
            counted = await conn.execute_fetchall(
                f"SELECT count(*) FROM users WHERE {matches}", parameters
            )
        users = [_decode(UserRecord, row) for row in rows[:limit]]
        last = users[-1] if len(rows) > limit else None
        return UserPage(
            users=users,
            total=next(iter(counted))[0],
            next_after=None if last is None else (last.created_at, last.id),
        )

    async def update_user(self, user_id: str, now: dt.datetime, **changes: object) -> UserRecord:
        async with self._transaction() as conn:
            return await _update_user(conn, user_id, now, changes)

    async def update_user_keeping_an_admin(
        self, user_id: str, now: dt.datetime, **changes: object
    ) -> tuple[UserRecord, UserRecord]:
        # BEGIN IMMEDIATE holds the write lock from the first read: no other writer, in any
        # process, can demote another admin between the check and the update.
        async with self._transaction() as conn:
            rows = list(
                await conn.execute_fetchall(
                    f"SELECT {_columns(UserRecord)} FROM users WHERE id = ?", (user_id,)
                )
            )
            if not rows:
                raise NotFound("No such user.")
            before = _decode(UserRecord, rows[0])
            if ends_an_admin(before, changes):
                others = await conn.execute_fetchall(
                    "SELECT EXISTS (SELECT 1 FROM users WHERE role = ? AND is_active = 1"
                    " AND id != ?)",
                    (ADMIN_ROLE, user_id),
                )
                if not next(iter(others))[0]:
                    raise NoActiveAdminLeft()
            return before, await _update_user(conn, user_id, now, changes)

    # ---------------------------------------------------------- refresh tokens

    async def add_refresh_token(self, token: RefreshTokenRecord) -> None:
        async with self._transaction() as conn:
            await _insert(conn, "refresh_tokens", token)

    async def use_refresh_token(self, jti: str, now: dt.datetime) -> RefreshTokenRecord | None:
        return await self._write_one(
            RefreshTokenRecord,
            "UPDATE refresh_tokens SET used_at = ?1 WHERE jti = ?2 AND used_at IS NULL"
            f" AND revoked_at IS NULL AND expires_at > ?1 AND {_FAMILY_NOT_REVOKED}"
            f" RETURNING {_columns(RefreshTokenRecord)}",
            (_text(now), jti),
        )

    async def get_refresh_token(self, jti: str) -> RefreshTokenRecord | None:
        return await self._fetch_one(
            RefreshTokenRecord,
            f"SELECT {_columns(RefreshTokenRecord)} FROM refresh_tokens WHERE jti = ?",
            (jti,),
        )

    async def revoke_refresh_family(self, family_id: str, now: dt.datetime) -> int:
        rows = await self._write(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ?"
            " AND revoked_at IS NULL RETURNING 1",
            (_text(now), family_id),
        )
        return len(rows)

    async def revoke_user_refresh_tokens(
        self, user_id: str, now: dt.datetime, *, except_family: str | None = None
    ) -> list[str]:
        rows = await self._write(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ?"
            " AND revoked_at IS NULL AND family_id IS NOT ? RETURNING family_id",
            (_text(now), user_id, except_family),
        )
        return sorted({family_id for (family_id,) in rows})

    async def refresh_family_revoked(self, family_id: str) -> bool:
        rows = await self._fetch(
            "SELECT EXISTS (SELECT 1 FROM refresh_tokens"
            " WHERE family_id = ? AND revoked_at IS NOT NULL)",
            (family_id,),
        )
        return bool(rows[0][0])

    async def session_status(self, user_id: str, family_id: str) -> SessionStatus | None:
        rows = await self._fetch(
            "SELECT role, is_active, EXISTS (SELECT 1 FROM refresh_tokens"
            " WHERE family_id = ?2 AND revoked_at IS NOT NULL) FROM users WHERE id = ?1",
            (user_id, family_id),
        )
        if not rows:
            return None
        role, is_active, revoked = rows[0]
        return SessionStatus(role=role, is_active=bool(is_active), revoked=bool(revoked))

    # --------------------------------------------------------- one-time tokens

    async def add_one_time_token(self, token: OneTimeTokenRecord) -> None:
        async with self._transaction() as conn:
            await _insert(conn, "one_time_tokens", token)

    async def use_one_time_token(self, digest: str, purpose: str, now: dt.datetime) -> str | None:
        rows = await self._write(
            "UPDATE one_time_tokens SET used_at = ?1 WHERE digest = ?2 AND purpose = ?3"
            " AND used_at IS NULL AND expires_at > ?1 RETURNING user_id",
            (_text(now), digest, purpose),
        )
        return rows[0][0] if rows else None

    async def discard_one_time_tokens(
        self, user_id: str, purpose: str, *, keep: str | None = None
    ) -> int:
        rows = await self._write(
            "DELETE FROM one_time_tokens WHERE user_id = ? AND purpose = ?"
            " AND used_at IS NULL AND digest IS NOT ? RETURNING 1",
            (user_id, purpose, keep),
        )
        return len(rows)

    # ---------------------------------------------------------------- API keys

    async def add_api_key(self, key: ApiKeyRecord) -> None:
        async with self._transaction() as conn:
            await _insert(conn, "api_keys", key)

    async def list_api_keys(self, user_id: str) -> list[ApiKeyRecord]:
        rows = await self._fetch(
            f"SELECT {_columns(ApiKeyRecord)} FROM api_keys"
            " WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at, id",
            (user_id,),
        )
        return [_decode(ApiKeyRecord, row) for row in rows]

    async def find_api_key(self, digest: str) -> ApiKeyRecord | None:
        return await self._fetch_one(
            ApiKeyRecord,
            f"SELECT {_columns(ApiKeyRecord)} FROM api_keys WHERE digest = ?",
            (digest,),
        )

    async def revoke_api_key(self, key_id: str, user_id: str, now: dt.datetime) -> bool:
        rows = await self._write(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ?"
            " AND revoked_at IS NULL RETURNING 1",
            (_text(now), key_id, user_id),
        )
        return bool(rows)

    async def revoke_user_api_keys(self, user_id: str, now: dt.datetime) -> int:
        rows = await self._write(
            "UPDATE api_keys SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"
            " RETURNING 1",
            (_text(now), user_id),
        )
        return len(rows)

    async def touch_api_key(self, key_id: str, now: dt.datetime) -> None:
        await self._write("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (_text(now), key_id))

    # -------------------------------------------------------------------- helpers

    async def _write(self, sql: str, parameters: tuple[Any, ...]) -> list[Any]:
        """Run one writing statement in its own write transaction; its RETURNING rows."""
        async with self._transaction() as conn:
            return list(await conn.execute_fetchall(sql, parameters))

    async def _write_one(
        self, record_type: type[_Record], sql: str, parameters: tuple[Any, ...]
    ) -> _Record | None:
        rows = await self._write(sql, parameters)
        return _decode(record_type, rows[0]) if rows else None

    async def _fetch_one(
        self, record_type: type[_Record], sql: str, parameters: tuple[Any, ...]
    ) -> _Record | None:
        rows = await self._fetch(sql, parameters)
        return _decode(record_type, rows[0]) if rows else None


# ------------------------------------------------------------------ users


def _user_conditions(user_filter: UserFilter) -> tuple[str, tuple[Any, ...]]:
    """The WHERE conditions (never empty) and parameters of ``user_filter``."""
    conditions, parameters = ["1 = 1"], []
    if user_filter.text is not None:
        # instr, not LIKE: the text's '%' and '_' are plain characters.
        conditions.append("(instr(username_lower, ?) > 0 OR instr(email_lower, ?) > 0)")
        parameters += [user_filter.text.lower()] * 2
    if user_filter.role is not None:
        conditions.append("role = ?")
        parameters.append(user_filter.role)
    if user_filter.is_active is not None:
        conditions.append("is_active = ?")
        parameters.append(int(user_filter.is_active))
    return " AND ".join(conditions), tuple(parameters)


async def _update_user(
    conn: aiosqlite.Connection, user_id: str, now: dt.datetime, changes: dict[str, object]
) -> UserRecord:
    unknown = set(changes) - USER_UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"users have no updatable field(s) {sorted(unknown)}")
    # Column names come from the allow-list above, never from the caller.
    assignments = "".join(f"{field} = ?, " for field in changes)
    rows = list(
        await conn.execute_fetchall(
            f"UPDATE users SET {assignments}updated_at = ? WHERE id = ?"
            f" RETURNING {_columns(UserRecord)}",
            (*changes.values(), _text(now), user_id),
        )
    )
    if not rows:
        raise NotFound("No such user.")
    return _decode(UserRecord, rows[0])


# ------------------------------------------------------------------ conversions


def _columns(record_type: type) -> str:
    """The record's fields in declaration order, which is also the order of its columns."""
    return ", ".join(field.name for field in dataclasses.fields(record_type))


async def _insert(conn: aiosqlite.Connection, table: str, record: Any, **extra: object) -> Any:
    """Insert every field of ``record`` (plus ``extra`` columns) and return the stored record."""
    values = {
        field.name: _encode(getattr(record, field.name)) for field in dataclasses.fields(record)
    }
    values |= extra
    rows = await conn.execute_fetchall(
        f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})"
        f" RETURNING {_columns(type(record))}",
        tuple(values.values()),
    )
    return _decode(type(record), next(iter(rows)))


def _encode(value: object) -> object:
    if isinstance(value, dt.datetime):
        return _text(value)
    if isinstance(value, tuple):  # an API key's scopes
        return json.dumps(list(value))
    return value


def _decode(record_type: type[_Record], row: Sequence[Any]) -> _Record:
    """Build a record from a row of its ``_columns``, by the naming of the fields:
    ``*_at`` are timestamps, ``is_*`` booleans, ``scopes`` a JSON array."""
    values = []
    for field, value in zip(dataclasses.fields(record_type), row, strict=True):
        if value is not None and field.name.endswith("_at"):
            value = dt.datetime.fromisoformat(value)
        elif field.name.startswith("is_"):
            value = bool(value)
        elif field.name == "scopes":
            value = tuple(json.loads(value))
        values.append(value)
    return record_type(*values)


def _text(moment: dt.datetime) -> str:
    if moment.utcoffset() is None:
        # A naive datetime's zone is a guess; storing it would misplace it silently.
        raise ValueError(f"timestamps must be timezone-aware, got {moment!r}")
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")
