"""Numbered SQL migrations for the records backends, verified by checksum.

Each records backend ships its schema as ``migrations/<backend>/NNNN_name.sql`` package data.
Versions run 1, 2, 3 ... without gaps, so a lost or duplicated file is caught before anything
runs. Every applied migration is recorded in ``schema_migrations`` with the SHA-256 of its file;
a database whose recorded checksums no longer match the files was migrated by different code,
and migrating it further is refused rather than letting the schemas silently diverge.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from agentvault_registry.core.errors import ConfigError
from agentvault_registry.storage_backends.base import AppliedMigration

#: The package whose ``migrations/`` directory holds the built-in backends' migrations.
MIGRATIONS_PACKAGE = "agentvault_registry.storage_backends"

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")


class MigrationError(ConfigError):
    """The migration files and the database disagree; nothing further is applied."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


def load_migrations(backend: str, package: str = MIGRATIONS_PACKAGE) -> list[Migration]:
    """The migrations shipped for ``backend``, in version order, checked for gaps."""
    directory = resources.files(package) / "migrations" / backend
    if not directory.is_dir():
        raise MigrationError(f"no migrations directory for the {backend!r} records backend")
    migrations = []
    for entry in directory.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationError(
                f"migration file {backend}/{entry.name} is not named NNNN_name.sql"
            )
        migrations.append(
            Migration(int(match["version"]), match["name"], entry.read_text(encoding="utf-8"))
        )
    migrations.sort(key=lambda migration: migration.version)
    check_sequence(backend, migrations)
    return migrations


def check_sequence(backend: str, migrations: Iterable[Migration]) -> None:
    """Refuse duplicated or missing versions: the files must number 1, 2, 3 ..."""
    expected = 1
    for migration in migrations:
        if migration.version == expected - 1:
            raise MigrationError(
                f"{backend} migrations: version {migration.version:04d} appears twice"
            )
        if migration.version != expected:
            raise MigrationError(
                f"{backend} migrations: version {expected:04d} is missing "
                f"(found {migration.label} instead)"
            )
        expected += 1


def pending_migrations(
    known: Iterable[Migration], applied: Iterable[AppliedMigration]
) -> list[Migration]:
    """The known migrations not applied yet, once every applied one matches its file."""
    by_version = {migration.version: migration for migration in known}
    done = set()
    for record in applied:
        migration = by_version.get(record.version)
        if migration is None:
            raise MigrationError(
                f"the database has migration {record.version:04d}_{record.name}, which this "
                "code does not ship: it was migrated by a newer version"
            )
        if migration.checksum != record.checksum:
            raise MigrationError(
                f"migration {migration.label} changed after it was applied (checksum "
                "mismatch): restore the original file or use the code that applied it"
            )
        done.add(record.version)
    return [migration for version, migration in by_version.items() if version not in done]
