"""The activity log and usage counters in PostgreSQL (schema: migration
``0009_activity.sql``). ``details`` is ``jsonb``, sent and read as JSON text (see
:mod:`~agentvault_registry.storage_backends.postgresql_agents`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from agentvault_registry.storage_backends.activity import (
    ActivityEntry,
    ActivityFilter,
    ActivityRecords,
    DailyCount,
    split_actions,
)
from agentvault_registry.storage_backends.postgresql_agents import _plain_mapping

_ENTRY_FIELDS = tuple(item.name for item in dataclasses.fields(ActivityEntry))
_COLUMNS = ", ".join(_ENTRY_FIELDS)
_INSERT_FIELDS = tuple(name for name in _ENTRY_FIELDS if name != "seq")
_INSERT = (
    f"INSERT INTO activity ({', '.join(_INSERT_FIELDS)})"
    f" VALUES ({', '.join(f'${n}' for n in range(1, len(_INSERT_FIELDS) + 1))}) RETURNING seq"
)
#: Key of the transaction advisory lock under which entries are appended ("avreg_ac").
ACTIVITY_LOCK_KEY = 0x6176_7265_675F_6163


class PostgresActivity(ActivityRecords):
    """The activity part of
    :class:`~agentvault_registry.storage_backends.postgresql.PostgresRecords`, on the primary
    (its ``connection()``): the event stream reads an entry right after it is appended.

    Appends take the activity lock and hold it to the commit, so an entry gets its ``seq``
    only once every earlier one is visible: a reader resuming after a ``seq`` never skips an
    entry committed late. Counter additions are ``INSERT ... ON CONFLICT DO UPDATE``, in key
    order, so concurrent flushes all count and never deadlock.
    """

    async def append_activity(self, entries: Sequence[ActivityEntry]) -> list[ActivityEntry]:
        rows = [_encoded(entry) for entry in entries]
        stored = []
        async with self.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", ACTIVITY_LOCK_KEY)
            for entry, values in zip(entries, rows, strict=True):
                seq = await conn.fetchval(_INSERT, *values)
                stored.append(dataclasses.replace(entry, seq=seq))
        return stored

    async def list_activity(
        self,
        activity_filter: ActivityFilter,
        *,
        limit: int,
        after_seq: int | None = None,
        before_seq: int | None = None,
        newest_first: bool = True,
    ) -> list[ActivityEntry]:
        if limit < 1:
            raise ValueError("limit must be positive")
        where, parameters = _where(activity_filter, after_seq, before_seq)
        parameters.append(limit)
        async with self.connection() as conn:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM activity {where}"
                f" ORDER BY seq {'DESC' if newest_first else 'ASC'} LIMIT ${len(parameters)}",
                *parameters,
            )
        return [_decoded(row) for row in rows]

    async def latest_activity_seq(self) -> int:
        async with self.connection() as conn:
            return await conn.fetchval("SELECT coalesce(max(seq), 0) FROM activity")

    async def count_activity_by_day(self, activity_filter: ActivityFilter) -> list[DailyCount]:
        where, parameters = _where(activity_filter)
        async with self.connection() as conn:
            rows = await conn.fetch(
                "SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, action, count(*)"
                f" FROM activity {where} GROUP BY day, action ORDER BY day, action",
                *parameters,
            )
        return [DailyCount(day, name, count) for day, name, count in rows]

    async def add_usage(self, counts: Mapping[tuple[dt.date, str, str], int]) -> None:
        if any(count < 0 for count in counts.values()):
            raise ValueError("usage counts must not be negative")
        rows = [
            (name, key, day, count)
            for (day, name, key), count in sorted(counts.items(), key=_counter_order)
            if count
        ]
        if not rows:
            return
        async with self.connection() as conn, conn.transaction():
            await conn.executemany(
                "INSERT INTO usage_counters AS counter (name, key, day, count)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (name, key, day)"
                " DO UPDATE SET count = counter.count + excluded.count",
                rows,
            )

    async def usage_by_day(
        self, name: str, *, key: str = "", since: dt.date, until: dt.date | None = None
    ) -> list[DailyCount]:
        async with self.connection() as conn:
            rows = await conn.fetch(
                "SELECT day, count FROM usage_counters WHERE name = $1 AND key = $2"
                " AND day >= $3 AND ($4::date IS NULL OR day < $4) ORDER BY day",
                name,
                key,
                since,
                until,
            )
        return [DailyCount(day, name, count) for day, count in rows]


def _counter_order(item: tuple[tuple[dt.date, str, str], int]) -> tuple[str, str, dt.date]:
    (day, name, key), _ = item
    return name, key, day


def _where(
    activity_filter: ActivityFilter, after_seq: int | None = None, before_seq: int | None = None
) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (empty when everything matches) and its parameters."""
    where: list[str] = []
    parameters: list[Any] = []

    def parameter(value: Any) -> str:
        parameters.append(value)
        return f"${len(parameters)}"

    exact, prefixes = split_actions(activity_filter.actions)
    if activity_filter.actions:
        alternatives = [f"action = ANY({parameter(exact)}::text[])"] if exact else []
        alternatives += [
            f"(action >= {parameter(low)} AND action < {parameter(high)})" for low, high in prefixes
        ]
        where.append(f"({' OR '.join(alternatives)})")
    for column in ("actor_id", "owner_id", "subject_type", "subject_id"):
        value = getattr(activity_filter, column)
        if value is not None:
            where.append(f"{column} = {parameter(value)}")
    if activity_filter.owner_or_actor_id is not None:
        placeholder = parameter(activity_filter.owner_or_actor_id)
        where.append(f"(owner_id = {placeholder} OR actor_id = {placeholder})")
    for condition, value in (
        ("occurred_at >=", _aware(activity_filter.since)),
        ("occurred_at <", _aware(activity_filter.until)),
        ("seq >", after_seq),
        ("seq <", before_seq),
    ):
        if value is not None:
            where.append(f"{condition} {parameter(value)}")
    return (f"WHERE {' AND '.join(where)}" if where else ""), parameters


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and moment.utcoffset() is None:
        # asyncpg would take a naive datetime as UTC; its zone is a guess.
        raise ValueError(f"timestamps must be timezone-aware, got {moment!r}")
    return moment


def _encoded(entry: ActivityEntry) -> tuple[Any, ...]:
    values = {name: getattr(entry, name) for name in _INSERT_FIELDS}
    values["occurred_at"] = _aware(entry.occurred_at)
    values["details"] = json.dumps(entry.details, default=_plain_mapping)
    return tuple(values.values())


def _decoded(row: Mapping[str, Any]) -> ActivityEntry:
    return ActivityEntry(**{**row, "details": json.loads(row["details"])})
