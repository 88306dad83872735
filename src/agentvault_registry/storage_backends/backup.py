"""Table-level access to a records backend for backup and restore (``export-all``).

A backup holds every table of the schema except the derived ones (the discovery index, FTS
shadow tables, migration bookkeeping), found in the database catalog rather than listed by
hand, so a table a later migration adds is exported without code changes. Values travel in a
backend-neutral form, by column kind:

- ``timestamp``: ISO-8601 in UTC with microseconds (``2026-01-02T03:04:05.000006+00:00``)
- ``date``: an ISO-8601 calendar day (``2026-01-02``)
- ``json``: the JSON value itself (PostgreSQL ``text[]`` columns are JSON arrays too)
- ``boolean``: true/false; ``bytes``: base64; ``integer``, ``real``, ``text``: as they are
"""

from __future__ import annotations

import abc
import base64
import datetime as dt
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

KINDS = frozenset({"text", "integer", "real", "boolean", "timestamp", "date", "json", "bytes"})

#: registry_meta keys that describe derived data: dropped on import so the target rebuilds it.
DERIVED_META_KEYS = frozenset({"discovery_index_version"})


@dataclass(frozen=True)
class TableInfo:
    name: str
    #: Column name → kind (see the module docstring), in the table's column order.
    columns: dict[str, str]
    #: Tables this one references by foreign key (imported before it).
    references: frozenset[str]


def neutral_timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def encode_bytes(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode_bytes(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def foreign_key_order(tables: Iterable[TableInfo]) -> list[TableInfo]:
    """Referenced tables first; ties (and self-references) by name, so the order is stable."""
    pending = {table.name: table for table in tables}
    ordered: list[TableInfo] = []
    while pending:
        ready = sorted(
            name
            for name, table in pending.items()
            if not (table.references - {name}) & pending.keys()
        )
        if not ready:
            raise ValueError(f"foreign keys form a cycle among {sorted(pending)}")
        for name in ready:
            ordered.append(pending.pop(name))
    return ordered


class BackupRecords(abc.ABC):
    """What ``export-all`` / ``import-all`` need from a records backend."""

    #: Tables holding data rebuilt from others (indexes, bookkeeping); never exported.
    derived_tables: frozenset[str]

    @abc.abstractmethod
    async def backup_tables(self) -> list[TableInfo]:
        """Every table that is not derived, read from the catalog, in foreign-key order."""

    @abc.abstractmethod
    async def catalog_tables(self) -> set[str]:
        """The names of every table in the database (derived ones included)."""

    @abc.abstractmethod
    def export_rows(self, tables: list[TableInfo]) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Every row of ``tables`` as (table, neutral row), table by table in primary-key
        order, all read in one snapshot."""

    @abc.abstractmethod
    async def import_rows(
        self, tables: list[TableInfo], rows: Mapping[str, Iterable[dict[str, Any]]]
    ) -> None:
        """Insert neutral rows into empty tables in one transaction (in ``tables`` order),
        advance sequences past the imported ids, then rebuild the derived data."""

    @abc.abstractmethod
    async def has_rows(self, tables: list[TableInfo]) -> bool:
        """Whether any of ``tables`` other than ``registry_meta`` holds a row."""
