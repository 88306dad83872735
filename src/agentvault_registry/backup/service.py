"""Export a whole registry (records and blobs) to a backup, and import one into an empty
registry, possibly on other backends (SQLite → PostgreSQL, filesystem → S3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from agentvault_registry import __version__
from agentvault_registry.backup.archive import (
    BLOB_INDEX,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    BackupError,
    file_sha256,
    json_line,
    read_lines,
    read_manifest,
    readable_directory,
    writable_directory,
)
from agentvault_registry.config.settings import Settings
from agentvault_registry.core.errors import Conflict
from agentvault_registry.storage_backends.backup import DERIVED_META_KEYS, TableInfo
from agentvault_registry.storage_backends.base import BlobBackend, RecordsBackend
from agentvault_registry.storage_backends.migrations import load_migrations
from agentvault_registry.storage_backends.storage import configured_backend

Progress = Callable[[str], None]


@dataclass
class Summary:
    rows: dict[str, int] = field(default_factory=dict)
    blobs: int = 0


@asynccontextmanager
async def opened(
    settings: Settings, pm: pluggy.PluginManager
) -> AsyncIterator[tuple[RecordsBackend, BlobBackend]]:
    records = configured_backend(settings, pm, "records")
    blobs = configured_backend(settings, pm, "blobs")
    assert isinstance(records, RecordsBackend) and isinstance(blobs, BlobBackend)
    try:
        await records.open()
        await blobs.open()
        yield records, blobs
    finally:
        await blobs.close()
        await records.close()


async def export_all(
    records: RecordsBackend, blobs: BlobBackend, target: Path, progress: Progress
) -> Summary:
    """Write every exported table and every blob under ``target``; the manifest goes last,
    so a directory without one is an export that did not finish."""
    applied = await records.applied_migrations()
    if not applied:
        raise BackupError("the source registry has no schema: run `agentvault-registry migrate`")
    summary = Summary()
    with writable_directory(target) as directory:
        tables = await records.backup_tables()
        (directory / "records").mkdir()
        handles = {t.name: (directory / "records" / f"{t.name}.jsonl").open("w") for t in tables}
        try:
            async for table, row in records.export_rows(tables):
                if table == "registry_meta" and row["key"] in DERIVED_META_KEYS:
                    continue
                handles[table].write(json_line(row))
                summary.rows[table] = summary.rows.get(table, 0) + 1
        finally:
            for handle in handles.values():
                handle.close()
        for table in tables:
            progress(f"exported {summary.rows.setdefault(table.name, 0)} rows of {table.name}")
        summary.blobs = await _export_blobs(blobs, directory)
        progress(f"exported {summary.blobs} blobs")
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "registry_version": __version__,
            "schema_version": applied[-1].version,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "source": {"records": records.name, "blobs": blobs.name},
            "tables": {
                table.name: {
                    "file": f"records/{table.name}.jsonl",
                    "rows": summary.rows[table.name],
                    "sha256": file_sha256(directory / "records" / f"{table.name}.jsonl"),
                    "columns": table.columns,
                }
                for table in tables
            },
            "blobs": {"count": summary.blobs, "sha256": file_sha256(directory / BLOB_INDEX)},
        }
        (directory / MANIFEST).write_text(json_line(manifest), encoding="utf-8")
    return summary


async def _export_blobs(blobs: BlobBackend, directory: Path) -> int:
    (directory / "blobs" / "data").mkdir(parents=True)
    count = 0
    with (directory / BLOB_INDEX).open("w") as index:
        async for key in blobs.list():
            blob = await blobs.get(key)
            count += 1
            name = f"blobs/data/{count:08d}"
            (directory / name).write_bytes(blob.data)
            entry = {
                "key": key,
                "content_type": blob.info.content_type,
                "size": blob.info.size,
                "sha256": file_sha256(directory / name),
                "file": name,
            }
            index.write(json_line(entry))
    return count


async def import_all(
    records: RecordsBackend, blobs: BlobBackend, source: Path, progress: Progress
) -> Summary:
    """Migrate the target, check the backup whole, then write blobs and records.

    Blobs go first: they are inert until a record names them, so no record ever points at a
    missing blob. The records go in one transaction; when it fails, the blobs written are
    deleted again, leaving the registry as empty as it was.
    """
    await records.migrate()
    latest = load_migrations(records.name)[-1].version
    with readable_directory(source) as directory:
        manifest = read_manifest(directory, latest)
        tables = await records.backup_tables()
        _check_tables(manifest, tables)
        if await records.has_rows(tables) or await _has_blobs(blobs):
            raise BackupError(
                "the target registry is not empty: import-all restores into a new registry only"
            )
        summary = Summary(blobs=manifest["blobs"]["count"])
        written: list[str] = []
        try:
            for blob in read_lines(directory / BLOB_INDEX):
                data = (directory / blob["file"]).read_bytes()
                await blobs.put(blob["key"], data, blob["content_type"])
                written.append(blob["key"])
            progress(f"imported {summary.blobs} blobs")
            rows = {
                name: read_lines(directory / entry["file"])
                for name, entry in manifest["tables"].items()
            }
            imported = [_restrict(table, manifest["tables"].get(table.name)) for table in tables]
            await records.import_rows([table for table in imported if table is not None], rows)
        except (Conflict, ValueError, TypeError) as exc:
            # Checksums match but the contents do not fit (a backup edited and re-summed by
            # hand): the records transaction rolled back; the blobs go too, so the registry is
            # empty again and a corrected backup can be imported.
            await _delete(blobs, written)
            raise BackupError(f"the backup's contents cannot be imported: {exc}") from None
        except BaseException:
            await _delete(blobs, written)
            raise
        for name, entry in manifest["tables"].items():
            summary.rows[name] = entry["rows"]
            progress(f"imported {entry['rows']} rows of {name}")
    return summary


def _check_tables(manifest: dict[str, Any], tables: list[TableInfo]) -> None:
    """Every table and column of the backup must exist in the target. A table or column
    the target has and the backup lacks (a newer schema) keeps its defaults."""
    ours = {table.name: table for table in tables}
    for name, entry in manifest["tables"].items():
        if name not in ours:
            raise BackupError(f"the backup has table {name}, which this registry does not")
        unknown = set(entry["columns"]) - set(ours[name].columns)
        if unknown:
            raise BackupError(f"the backup's table {name} has unknown columns {sorted(unknown)}")


def _restrict(table: TableInfo, entry: dict[str, Any] | None) -> TableInfo | None:
    if entry is None:
        return None
    columns = {c: kind for c, kind in table.columns.items() if c in entry["columns"]}
    return TableInfo(table.name, columns, table.references)


async def _delete(blobs: BlobBackend, keys: list[str]) -> None:
    for key in keys:
        await blobs.delete(key)


async def _has_blobs(blobs: BlobBackend) -> bool:
    async for _ in blobs.list():
        return True
    return False
