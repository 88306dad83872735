"""The activity log and usage counters in SQLite (schema: migration ``0009_activity.sql``).

Timestamps are fixed-width ISO-8601 UTC text (see
:mod:`~agentvault_registry.storage_backends.sqlite_accounts`), so an entry's UTC day is the
first ten characters of its ``occurred_at``; ``details`` is JSON text.
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
from agentvault_registry.storage_backends.sqlite_accounts import _text
from agentvault_registry.storage_backends.sqlite_agents import _plain_mapping

_ENTRY_FIELDS = tuple(item.name for item in dataclasses.fields(ActivityEntry))
_COLUMNS = ", ".join(_ENTRY_FIELDS)
_INSERT_FIELDS = tuple(name for name in _ENTRY_FIELDS if name != "seq")
_INSERT = (
    f"INSERT INTO activity ({', '.join(_INSERT_FIELDS)})"
    f" VALUES ({', '.join('?' * len(_INSERT_FIELDS))}) RETURNING seq"
)


class SqliteActivity(ActivityRecords):
    """The activity part of :class:`~agentvault_registry.storage_backends.sqlite.SqliteRecords`,
    built on its ``_transaction()`` (``BEGIN IMMEDIATE``) and ``_fetch()``.

    Appends hold the file's write lock to the commit, so ``seq`` order is commit order for
    every process sharing the file, and a counter's additions never overwrite each other.
    """

    async def append_activity(self, entries: Sequence[ActivityEntry]) -> list[ActivityEntry]:
        rows = [_encoded(entry) for entry in entries]
        stored = []
        async with self._transaction() as conn:
            for entry, values in zip(entries, rows, strict=True):
                (seq,) = next(iter(await conn.execute_fetchall(_INSERT, values)))
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
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM activity {where}"
            f" ORDER BY seq {'DESC' if newest_first else 'ASC'} LIMIT ?",
            (*parameters, limit),
        )
        return [_decoded(row) for row in rows]

    async def latest_activity_seq(self) -> int:
        rows = await self._fetch("SELECT coalesce(max(seq), 0) FROM activity")
        return rows[0][0]

    async def count_activity_by_day(self, activity_filter: ActivityFilter) -> list[DailyCount]:
        where, parameters = _where(activity_filter)
        rows = await self._fetch(
            "SELECT substr(occurred_at, 1, 10) AS day, action, count(*) FROM activity"
            f" {where} GROUP BY day, action ORDER BY day, action",
            tuple(parameters),
        )
        return [DailyCount(dt.date.fromisoformat(day), name, count) for day, name, count in rows]

    async def add_usage(self, counts: Mapping[tuple[dt.date, str, str], int]) -> None:
        if any(count < 0 for count in counts.values()):
            raise ValueError("usage counts must not be negative")
        rows = [
            (name, key, day.isoformat(), count)
            for (day, name, key), count in sorted(counts.items())
            if count
        ]
        if not rows:
            return
        async with self._transaction() as conn:
            await conn.executemany(
                "INSERT INTO usage_counters (name, key, day, count) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (name, key, day) DO UPDATE SET count = count + excluded.count",
                rows,
            )

    async def usage_by_day(
        self, name: str, *, key: str = "", since: dt.date, until: dt.date | None = None
    ) -> list[DailyCount]:
        sql = "SELECT day, count FROM usage_counters WHERE name = ? AND key = ? AND day >= ?"
        parameters: list[Any] = [name, key, since.isoformat()]
        if until is not None:
            sql += " AND day < ?"
            parameters.append(until.isoformat())
        rows = await self._fetch(sql + " ORDER BY day", tuple(parameters))
        return [DailyCount(dt.date.fromisoformat(day), name, count) for day, count in rows]


def _where(
    activity_filter: ActivityFilter, after_seq: int | None = None, before_seq: int | None = None
) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (empty when everything matches) and its parameters."""
    where = []
    parameters: list[Any] = []
    exact, prefixes = split_actions(activity_filter.actions)
    if activity_filter.actions:
        alternatives = [f"action IN ({', '.join('?' * len(exact))})"] if exact else []
        alternatives += ["(action >= ? AND action < ?)"] * len(prefixes)
        where.append(f"({' OR '.join(alternatives)})")
        parameters += exact
        parameters += [bound for pair in prefixes for bound in pair]
    for column in ("actor_id", "owner_id", "subject_type", "subject_id"):
        value = getattr(activity_filter, column)
        if value is not None:
            where.append(f"{column} = ?")
            parameters.append(value)
    if activity_filter.owner_or_actor_id is not None:
        where.append("(owner_id = ? OR actor_id = ?)")
        parameters += [activity_filter.owner_or_actor_id] * 2
    if activity_filter.since is not None:
        where.append("occurred_at >= ?")
        parameters.append(_text(activity_filter.since))
    if activity_filter.until is not None:
        where.append("occurred_at < ?")
        parameters.append(_text(activity_filter.until))
    for condition, seq in (("seq > ?", after_seq), ("seq < ?", before_seq)):
        if seq is not None:
            where.append(condition)
            parameters.append(seq)
    return (f"WHERE {' AND '.join(where)}" if where else ""), parameters


def _encoded(entry: ActivityEntry) -> tuple[Any, ...]:
    values = {name: getattr(entry, name) for name in _INSERT_FIELDS}
    values["occurred_at"] = _text(entry.occurred_at)
    values["details"] = json.dumps(entry.details, default=_plain_mapping)
    return tuple(values.values())


def _decoded(row: Sequence[Any]) -> ActivityEntry:
    values = dict(zip(_ENTRY_FIELDS, row, strict=True))
    values["occurred_at"] = dt.datetime.fromisoformat(values["occurred_at"])
    values["details"] = json.loads(values["details"])
    return ActivityEntry(**values)
