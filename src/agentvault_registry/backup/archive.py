"""Reading and writing the backup layout, and checking it before anything is imported."""

from __future__ import annotations

import hashlib
import json
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentvault_registry.core.errors import ConfigError

FORMAT = "agentvault-registry-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BLOB_INDEX = "blobs/index.jsonl"
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


class BackupError(ConfigError):
    """The backup cannot be written or is not one this registry can import; nothing written."""


def is_archive(path: Path) -> bool:
    return path.name.endswith(_ARCHIVE_SUFFIXES)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def json_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def read_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            yield json.loads(line)


@contextmanager
def writable_directory(target: Path) -> Iterator[Path]:
    """The directory to export into: ``target`` itself (new or empty), or a temporary one
    packed into the ``target`` archive when the export succeeds."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} exists and is not an empty directory")
    if not is_archive(target):
        target.mkdir(parents=True, exist_ok=True)
        yield target
        return
    with tempfile.TemporaryDirectory(prefix="avreg-export-") as scratch:
        yield Path(scratch)
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            for entry in sorted(Path(scratch).iterdir()):
                archive.add(entry, arcname=entry.name)
        partial.replace(target)


@contextmanager
def readable_directory(source: Path) -> Iterator[Path]:
    """The backup's directory: ``source`` itself, or the archive unpacked in a temporary one
    (with tarfile's ``data`` filter: no absolute paths, links out or device files)."""
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    if not is_archive(source):
        yield source
        return
    with tempfile.TemporaryDirectory(prefix="avreg-import-") as scratch:
        try:
            with tarfile.open(source, "r:gz") as archive:
                archive.extractall(scratch, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BackupError(f"{source} is not a readable backup archive: {exc}") from None
        yield Path(scratch)


def read_manifest(directory: Path, latest_schema: int) -> dict[str, Any]:
    """The manifest, once its format, versions and every file's checksum are right."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{directory} has no {MANIFEST}: not a registry backup") from None
    except ValueError:
        raise BackupError(f"{MANIFEST} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{MANIFEST} does not describe an {FORMAT}")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(
            f"backup format_version {version!r} is newer than this registry reads "
            f"({FORMAT_VERSION}): import it with a newer agentvault-registry"
        )
    schema = manifest.get("schema_version")
    if not isinstance(schema, int) or schema > latest_schema:
        raise BackupError(
            f"the backup's schema_version {schema!r} is newer than this registry's "
            f"({latest_schema}): import it with the version that made it or a newer one"
        )
    try:
        _check_contents(directory, manifest)
    except (KeyError, TypeError, AttributeError, ValueError):
        # A manifest or index entry without its fields, or a data line that is not JSON.
        raise BackupError(f"the backup is malformed: {MANIFEST} or a file it lists") from None
    return manifest


def _check_contents(directory: Path, manifest: dict[str, Any]) -> None:
    for entry in manifest["tables"].values():
        _check_file(directory, entry["file"], entry["sha256"])
        rows = sum(1 for _ in read_lines(directory / entry["file"]))
        if rows != entry["rows"]:
            raise BackupError(
                f"{entry['file']} holds {rows} rows, the manifest says {entry['rows']}"
            )
    blobs = manifest["blobs"]
    _check_file(directory, BLOB_INDEX, blobs["sha256"])
    count = 0
    for blob in read_lines(directory / BLOB_INDEX):
        _check_file(directory, blob["file"], blob["sha256"])
        count += 1
    if count != blobs["count"]:
        raise BackupError(f"{BLOB_INDEX} lists {count} blobs, the manifest says {blobs['count']}")


def _check_file(directory: Path, name: str, expected: str) -> None:
    path = directory / name
    if not path.resolve().is_relative_to(directory.resolve()):
        raise BackupError(f"the manifest names a file outside the backup: {name}")
    if not path.is_file():
        raise BackupError(f"{name} is missing from the backup")
    if file_sha256(path) != expected:
        raise BackupError(f"{name} does not match its checksum in the manifest (damaged or edited)")
