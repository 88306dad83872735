"""SQLite side of backup and restore: tables from ``sqlite_master``, kinds from the DDL.

SQLite keeps timestamps, JSON and booleans in TEXT and INTEGER columns, so a column's kind is
read from the conventions every migration follows: ``CHECK (col IN (0, 1))`` marks a boolean,
``json_valid(col)`` a JSON column, a TEXT column named ``*_at`` or ``hour`` holds a
timestamp and one named ``day`` a calendar day. The backup tests check these kinds against
PostgreSQL's declared types, table by table, so a migration that breaks a convention fails
there.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import aiosqlite

from agentvault_registry.storage_backends.backup import (
    BackupRecords,
    TableInfo,
    decode_bytes,
    encode_bytes,
    foreign_key_order,
    neutral_timestamp,
)

#: The discovery index (with the FTS5 table, whose shadow tables start with its name) and
#: the migration bookkeeping.
DERIVED_TABLES = frozenset(
    {"schema_migrations", "agent_search", "agents_fts", "agent_terms", "agent_doc_terms"}
    | {"agent_term_counts"}
)
_FTS_SHADOW = re.compile(r"^agents_fts_")


def is_derived_table(name: str) -> bool:
    return name in DERIVED_TABLES or name.startswith("sqlite_") or bool(_FTS_SHADOW.match(name))


def column_kind(table_sql: str, column: str, declared: str) -> str:
    declared = declared.upper()
    name = re.escape(column)
    if re.search(rf"\bjson_valid\s*\(\s*{name}\s*\)", table_sql):
        return "json"
    if re.search(rf"\b{name}\s+IN\s*\(\s*0\s*,\s*1\s*\)", table_sql):
        return "boolean"
    if declared == "INTEGER":
        return "integer"
    if declared == "REAL":
        return "real"
    if declared == "BLOB":
        return "bytes"
    if column.endswith("_at") or column == "hour":
        return "timestamp"
    if column == "day":
        return "date"
    return "text"


def to_neutral(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "json":
        return json.loads(value)
    if kind == "boolean":
        return bool(value)
    if kind == "timestamp":
        return neutral_timestamp(dt.datetime.fromisoformat(value))
    if kind == "date":
        return dt.date.fromisoformat(value).isoformat()
    if kind == "bytes":
        return encode_bytes(value)
    return value


def from_neutral(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if kind == "boolean":
        return int(bool(value))
    if kind == "timestamp":
        return neutral_timestamp(dt.datetime.fromisoformat(value))
    if kind == "date":
        return dt.date.fromisoformat(value).isoformat()
    if kind == "bytes":
        return decode_bytes(value)
    return value


class SqliteBackup(BackupRecords):
    derived_tables = DERIVED_TABLES

    async def catalog_tables(self) -> set[str]:
        rows = await self._fetch("SELECT name FROM sqlite_master WHERE type = 'table'")  # type: ignore[attr-defined]
        return {row[0] for row in rows}

    async def backup_tables(self) -> list[TableInfo]:
        async with self._snapshot() as conn:  # type: ignore[attr-defined]
            return await _tables(conn)

    async def export_rows(
        self, tables: list[TableInfo]
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        async with self._snapshot() as conn:  # type: ignore[attr-defined]
            for table in tables:
                order = await _primary_key(conn, table.name) or list(table.columns)
                cursor = await conn.execute(
                    f"SELECT {_names(table.columns)} FROM {_quote(table.name)}"
                    f" ORDER BY {_names(order)}"
                )
                async for row in cursor:
                    yield (
                        table.name,
                        {
                            column: to_neutral(kind, value)
                            for (column, kind), value in zip(
                                table.columns.items(), row, strict=True
                            )
                        },
                    )

    async def import_rows(
        self, tables: list[TableInfo], rows: Mapping[str, Iterable[dict[str, Any]]]
    ) -> None:
        async with self._transaction() as conn:  # type: ignore[attr-defined]
            # The target was just migrated: its own meta (instance id, index version) gives way
            # to the source's.
            await conn.execute("DELETE FROM registry_meta")
            for table in tables:
                columns = list(table.columns)
                sql = (
                    f"INSERT INTO {_quote(table.name)} ({_names(columns)})"
                    f" VALUES ({', '.join('?' for _ in columns)})"
                )
                await conn.executemany(
                    sql,
                    (
                        tuple(from_neutral(table.columns[c], row.get(c)) for c in columns)
                        for row in rows.get(table.name, ())
                    ),
                )
        # AUTOINCREMENT keeps its high-water mark in sqlite_sequence, which explicit ids
        # advance by themselves; the discovery index is rebuilt because its version is gone.
        await self.migrate()  # type: ignore[attr-defined]

    async def has_rows(self, tables: list[TableInfo]) -> bool:
        async with self._snapshot() as conn:  # type: ignore[attr-defined]
            for table in tables:
                if table.name == "registry_meta":
                    continue
                cursor = await conn.execute(f"SELECT 1 FROM {_quote(table.name)} LIMIT 1")
                if await cursor.fetchone() is not None:
                    return True
        return False


async def _tables(conn: aiosqlite.Connection) -> list[TableInfo]:
    listed = await conn.execute_fetchall(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name"
    )
    tables = []
    for name, sql in listed:
        if is_derived_table(name):
            continue
        columns = await conn.execute_fetchall(f"PRAGMA table_info({_quote(name)})")
        references = await conn.execute_fetchall(f"PRAGMA foreign_key_list({_quote(name)})")
        tables.append(
            TableInfo(
                name,
                {column[1]: column_kind(sql, column[1], column[2]) for column in columns},
                frozenset(reference[2] for reference in references),
            )
        )
    return foreign_key_order(tables)


async def _primary_key(conn: aiosqlite.Connection, table: str) -> list[str]:
    columns = await conn.execute_fetchall(f"PRAGMA table_info({_quote(table)})")
    return [column[1] for column in sorted(columns, key=lambda c: c[5]) if column[5]]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _names(columns: Iterable[str]) -> str:
    return ", ".join(_quote(column) for column in columns)
