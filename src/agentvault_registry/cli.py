"""The ``agentvault-registry`` command line: serve, migrate, config check, plugins.

Problems a user can fix (bad config, a backend that is down, a disabled plugin another needs)
end the command with one line per problem and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import pluggy

from agentvault_registry import __version__
from agentvault_registry.client.cli import register_commands as register_client_commands
from agentvault_registry.config.dump import settings_as_dict
from agentvault_registry.config.loader import (
    gather_raw_config,
    load_configuration,
    plugin_manager_for,
)
from agentvault_registry.config.settings import DEVELOPMENT, Settings
from agentvault_registry.core.errors import BackendError, ConfigError
from agentvault_registry.core.plugins import describe_plugins

#: Address in use, address not available, permission denied (a port below 1024).
BIND_ERRNOS = {errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES}
EXIT_CONFIG = 2
EXIT_BACKEND = 3

config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    envvar="AVREG_CONFIG",
    help="TOML config file (default: $AVREG_CONFIG).",
)


@contextmanager
def user_errors() -> Iterator[None]:
    """Report configuration and backend problems as short lines, then exit."""
    try:
        yield
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(EXIT_CONFIG)
    except BackendError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(EXIT_BACKEND)


def load(config_file: str | None, **overrides: Any) -> tuple[Settings, pluggy.PluginManager]:
    return load_configuration(config_file, overrides=_nest(overrides))


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"server.port": 1}`` → ``{"server": {"port": 1}}``, dropping unset flags."""
    nested: dict[str, Any] = {}
    for dotted, value in flat.items():
        if value is None:
            continue
        *sections, key = dotted.split(".")
        target = nested
        for section in sections:
            target = target.setdefault(section, {})
        target[key] = value
    return nested


@click.group()
@click.version_option(__version__, prog_name="agentvault-registry")
def cli() -> None:
    """AgentVault Registry: a registry of AI agents and their A2A Agent Cards."""


@cli.command()
@config_option
@click.option("--host", help="Interface to listen on (server.host).")
@click.option("--port", type=int, help="Port to listen on (server.port).")
@click.option("--dev", is_flag=True, help="Development mode: generated secrets, embedded storage.")
@click.option(
    "--allow-embedded", is_flag=True, default=None, help="Allow SQLite in production mode."
)
@click.option("--no-migrate", is_flag=True, help="Do not run migrations on start.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Where embedded data lives.")
def serve(
    config_file: str | None,
    host: str | None,
    port: int | None,
    dev: bool,
    allow_embedded: bool | None,
    no_migrate: bool,
    data_dir: str | None,
) -> None:
    """Run the registry's HTTP server."""
    from aiohttp import web

    from agentvault_registry.core.app import server_ssl_context, serving_app
    from agentvault_registry.core.logs import AccessLogger

    with user_errors():
        settings, pm = load(
            config_file,
            **{
                "server.host": host,
                "server.port": port,
                "mode": DEVELOPMENT if dev else None,
                "storage.allow_embedded": allow_embedded,
                "storage.migrate_on_start": False if no_migrate else None,
                "data_dir": data_dir,
            },
        )
        app = serving_app(settings, pm)
        run_app_reporting_bind_errors(
            web.run_app,
            app,
            host=settings.server.host,
            port=settings.server.port,
            ssl_context=server_ssl_context(app),
            access_log_class=AccessLogger,
            access_log=None if not settings.server.access_log else web.access_logger,
            # aiohttp's banner names the address actually bound (port 0 picks one).
            print=lambda banner: click.echo(
                f"AgentVault Registry ({settings.mode}): {banner.splitlines()[0].strip('= ')}"
            ),
        )


def run_app_reporting_bind_errors(run: Any, app: Any, **kwargs: Any) -> None:
    """A port in use or an address that cannot be bound is a user problem, not a crash."""
    try:
        run(app, **kwargs)
    except OSError as exc:
        if exc.errno not in BIND_ERRNOS:
            raise
        raise ConfigError(
            f"cannot listen on {kwargs['host']}:{kwargs['port']}: {os.strerror(exc.errno)}"
        ) from None


@cli.command()
@config_option
def migrate(config_file: str | None) -> None:
    """Apply pending database migrations, then exit."""
    from agentvault_registry.core.migrate import run_migrations

    with user_errors():
        settings, pm = load(config_file)
        applied = asyncio.run(run_migrations(settings, pm))
    for migration in applied:
        click.echo(f"applied {migration.version:04d} {migration.name}")
    click.echo(f"{len(applied)} migration(s) applied.")


@cli.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("check")
@config_option
def config_check(config_file: str | None) -> None:
    """Validate the configuration and print the effective values, secrets masked."""
    with user_errors():
        settings, _ = load(config_file)
    click.echo(json.dumps(settings_as_dict(settings), indent=2, sort_keys=True))


@cli.command("plugins")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_command(config_file: str | None, as_json: bool) -> None:
    """List the loaded plugins and the hooks each implements."""
    with user_errors():
        pm = plugin_manager_for(gather_raw_config(config_file))
    rows = describe_plugins(pm)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']}  ({row['module']})")
        click.echo(f"    hooks: {', '.join(row['hooks']) or '-'}")


# The client commands (login, agents, search, import...) talk to a registry over its API.
register_client_commands(cli)


def _add_backup_commands() -> None:
    # Imported here: the backup commands use this module's options and error handling.
    from agentvault_registry.backup.commands import add_commands

    add_commands(cli)


_add_backup_commands()


def add_plugin_commands(group: click.Group) -> None:
    """Let plugins add subcommands; a broken config only hides them (the commands report it)."""
    try:
        pm = plugin_manager_for(gather_raw_config())
    except ConfigError:
        return
    pm.hook.register_commands(cli=group)


def main(argv: list[str] | None = None) -> Any:
    add_plugin_commands(cli)
    return cli.main(args=argv, prog_name="agentvault-registry")
