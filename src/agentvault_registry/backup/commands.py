"""``agentvault-registry export-all`` and ``import-all``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from agentvault_registry.backup.service import Summary, export_all, import_all, opened
from agentvault_registry.cli import config_option, load, user_errors


def _summarise(verb: str, summary: Summary) -> None:
    rows = sum(summary.rows.values())
    click.echo(f"{verb} {rows} rows in {len(summary.rows)} tables and {summary.blobs} blobs.")


def add_commands(cli: click.Group) -> None:
    """Add the two commands to ``cli``, with the CLI's own options and error handling."""

    @cli.command("export-all")
    @config_option
    @click.argument("path", type=click.Path(path_type=Path))
    def export_all_command(config_file: str | None, path: Path) -> None:
        """Write every record and blob to PATH (a new directory, or a .tar.gz archive)."""
        with user_errors():
            settings, pm = load(config_file)

            async def run() -> Summary:
                async with opened(settings, pm) as (records, blobs):
                    return await export_all(records, blobs, path, click.echo)

            _summarise("exported", asyncio.run(run()))

    @cli.command("import-all")
    @config_option
    @click.argument("path", type=click.Path(path_type=Path))
    def import_all_command(config_file: str | None, path: Path) -> None:
        """Restore the backup at PATH into this (empty) registry; stop the registry first.

        The target is migrated, the backup checked whole (format, versions, checksums), and
        only then written: blobs, then every record in one transaction; the discovery index
        is rebuilt from the imported agents.
        """
        with user_errors():
            settings, pm = load(config_file)

            async def run() -> Summary:
                async with opened(settings, pm) as (records, blobs):
                    return await import_all(records, blobs, path, click.echo)

            _summarise("imported", asyncio.run(run()))
