"""PostgreSQL side of backup and restore: tables and types from the catalog.

Rows go in with COPY, which writes the given values into identity columns too (as
``OVERRIDING SYSTEM VALUE`` would); every identity or serial sequence is then moved past the
largest imported id so new rows do not collide.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from agentvault_registry.core.errors import BackendError
from agentvault_registry.storage_backends.backup import (
    BackupRecords,
    TableInfo,
    decode_bytes,
    encode_bytes,
    foreign_key_order,
    neutral_timestamp,
)

if TYPE_CHECKING:
    import asyncpg

#: The discovery index (rows, term and word counts) and the migration bookkeeping.
DERIVED_TABLES = frozenset(
    {"schema_migrations", "agent_search", "agent_term_counts", "agent_word_counts"}
)

#: Rows per COPY.
COPY_CHUNK = 5000

_KINDS = {
    "text": "text",
    "character varying": "text",
    "integer": "integer",
    "bigint": "integer",
    "smallint": "integer",
    "real": "real",
    "double precision": "real",
    "numeric": "real",
    "boolean": "boolean",
    "timestamp with time zone": "timestamp",
    "date": "date",
    "jsonb": "json",
    "json": "json",
    "ARRAY": "json",
    "bytea": "bytes",
}

_COLUMNS = """
SELECT table_name, column_name, data_type
FROM information_schema.columns
WHERE table_schema = current_schema()
ORDER BY table_name, ordinal_position
"""
_TABLES = """
SELECT table_name FROM information_schema.tables
WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
"""
_REFERENCES = """
SELECT source.relname AS source, target.relname AS target
FROM pg_constraint c
JOIN pg_class source ON source.oid = c.conrelid
JOIN pg_class target ON target.oid = c.confrelid
WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
"""
_PRIMARY_KEY = """
SELECT a.attname FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
WHERE i.indrelid = $1::regclass AND i.indisprimary
ORDER BY array_position(i.indkey, a.attnum)
"""
_SEQUENCES = """
SELECT column_name, pg_get_serial_sequence(quote_ident(table_name), column_name) AS sequence
FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = $1
  AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL
"""


def to_neutral(data_type: str, value: Any) -> Any:
    if value is None:
        return None
    if data_type in ("jsonb", "json"):
        return json.loads(value)
    if data_type == "ARRAY":
        return list(value)
    if data_type == "timestamp with time zone":
        return neutral_timestamp(value)
    if data_type == "date":
        return value.isoformat()
    if data_type == "bytea":
        return encode_bytes(value)
    if data_type in ("real", "double precision", "numeric"):
        return float(value)
    return value


def from_neutral(data_type: str, value: Any) -> Any:
    if value is None:
        return None
    if data_type in ("jsonb", "json"):
        return json.dumps(value, ensure_ascii=False)
    if data_type == "timestamp with time zone":
        return dt.datetime.fromisoformat(value)
    if data_type == "date":
        return dt.date.fromisoformat(value)
    if data_type == "bytea":
        return decode_bytes(value)
    return value


class PostgresBackup(BackupRecords):
    derived_tables = DERIVED_TABLES

    async def catalog_tables(self) -> set[str]:
        async with self.connection() as conn:  # type: ignore[attr-defined]
            with self._errors():  # type: ignore[attr-defined]
                return {row[0] for row in await conn.fetch(_TABLES)}

    async def backup_tables(self) -> list[TableInfo]:
        return [table for table, _ in await self._typed_tables()]

    async def _typed_tables(self) -> list[tuple[TableInfo, dict[str, str]]]:
        async with self.connection() as conn:  # type: ignore[attr-defined]
            with self._errors():  # type: ignore[attr-defined]
                names = {row[0] for row in await conn.fetch(_TABLES)} - DERIVED_TABLES
                columns: dict[str, dict[str, str]] = {name: {} for name in names}
                for row in await conn.fetch(_COLUMNS):
                    if row["table_name"] in columns:
                        columns[row["table_name"]][row["column_name"]] = row["data_type"]
                references: dict[str, set[str]] = {name: set() for name in names}
                for row in await conn.fetch(_REFERENCES):
                    if row["source"] in references:
                        references[row["source"]].add(row["target"])
        typed = {}
        for name in names:
            unknown = {t for t in columns[name].values() if t not in _KINDS}
            if unknown:
                raise BackendError(
                    f"table {name} has column types a backup cannot carry: {sorted(unknown)}",
                    backend=self.name,  # type: ignore[attr-defined]
                )
            info = TableInfo(
                name,
                {column: _KINDS[t] for column, t in columns[name].items()},
                frozenset(references[name]),
            )
            typed[name] = (info, columns[name])
        return [typed[table.name] for table in foreign_key_order(t for t, _ in typed.values())]

    async def export_rows(
        self, tables: list[TableInfo]
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        types = {table.name: data_types for table, data_types in await self._typed_tables()}
        async with self.connection() as conn:  # type: ignore[attr-defined]
            with self._errors():  # type: ignore[attr-defined]
                async with conn.transaction(isolation="repeatable_read", readonly=True):
                    for table in tables:
                        data_types = types[table.name]
                        order = [r[0] for r in await conn.fetch(_PRIMARY_KEY, table.name)]
                        sql = (
                            f"SELECT {_names(data_types)} FROM {_quote(table.name)}"
                            f" ORDER BY {_names(order or data_types)}"
                        )
                        async for row in conn.cursor(sql):
                            yield (
                                table.name,
                                {c: to_neutral(t, row[c]) for c, t in data_types.items()},
                            )

    async def import_rows(
        self, tables: list[TableInfo], rows: Mapping[str, Iterable[dict[str, Any]]]
    ) -> None:
        types = {table.name: data_types for table, data_types in await self._typed_tables()}
        async with self.connection() as conn:  # type: ignore[attr-defined]
            with self._errors():  # type: ignore[attr-defined]
                async with conn.transaction():
                    # The target was just migrated: its own meta (instance id, index version)
                    # gives way to the source's.
                    await conn.execute("DELETE FROM registry_meta")
                    for table in tables:
                        data_types = {c: types[table.name][c] for c in table.columns}
                        await _copy(conn, table.name, data_types, rows.get(table.name, ()))
                        await _advance_sequences(conn, table.name)
        # Without its version in registry_meta the discovery index is rebuilt from the agents.
        await self.migrate()  # type: ignore[attr-defined]

    async def has_rows(self, tables: list[TableInfo]) -> bool:
        async with self.connection() as conn:  # type: ignore[attr-defined]
            with self._errors():  # type: ignore[attr-defined]
                for table in tables:
                    if table.name == "registry_meta":
                        continue
                    if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {_quote(table.name)})"):
                        return True
        return False


async def _copy(
    conn: asyncpg.Connection,
    table: str,
    data_types: dict[str, str],
    rows: Iterable[dict[str, Any]],
) -> None:
    """COPY in chunks: a table of any size is never held in memory whole."""
    records = (tuple(from_neutral(t, row.get(c)) for c, t in data_types.items()) for row in rows)
    while chunk := list(itertools.islice(records, COPY_CHUNK)):
        await conn.copy_records_to_table(table, records=chunk, columns=list(data_types))


async def _advance_sequences(conn: asyncpg.Connection, table: str) -> None:
    for column, sequence in await conn.fetch(_SEQUENCES, table):
        # is_called = false on an empty table: the next id is the sequence's first.
        await conn.execute(
            f"SELECT setval($1, COALESCE(MAX({_quote(column)}), 1), MAX({_quote(column)})"
            f" IS NOT NULL) FROM {_quote(table)}",
            sequence,
        )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _names(columns: Iterable[str]) -> str:
    return ", ".join(_quote(column) for column in columns)
