"""Operator commands: ``federation sync`` pulls each peer's change feed into a local mirror."""

from __future__ import annotations

import asyncio

import click
from aiohttp import web

from agentvault_registry.cli import config_option, load, user_errors
from agentvault_registry.core.app import create_app
from agentvault_registry.core.appkeys import PLUGIN_MANAGER, STORAGE
from agentvault_registry.core.asyncutils import first_result
from agentvault_registry.core.errors import FetchFailed, RegistryError
from agentvault_registry.plugins.federation.appkeys import PEER_QUERIER
from agentvault_registry.plugins.federation.mirror import MirrorFailed, SyncResult, sync_peer
from agentvault_registry.plugins.federation.service import utcnow
from agentvault_registry.storage_backends.federation import PEER_ACTIVE, PEER_UNHEALTHY


def add_commands(cli: click.Group) -> None:
    cli.add_command(federation)


@click.group()
def federation() -> None:
    """Peer registries."""


@federation.command("sync")
@config_option
@click.option("--peer", "peer_name", help="Only this peer (name or id); default: every active one.")
def sync(config_file: str | None, peer_name: str | None) -> None:
    """Pull each peer's agent change feed once, from where the last sync ended."""
    with user_errors():
        settings, pm = load(config_file)
        try:
            done, failed = asyncio.run(_sync_all(create_app(settings, pm), peer_name))
        except RegistryError as exc:
            raise click.ClickException(exc.message) from None
    for result in done:
        click.echo(
            f"{result.peer}: {result.changes} changes, {result.mirrored} agents mirrored, "
            f"cursor {result.cursor}"
        )
    if not done and not failed:
        click.echo("no active peers to sync")
    for problem in failed:
        click.echo(f"error: {problem}", err=True)
    if failed:
        raise SystemExit(1)


async def _sync_all(
    app: web.Application, peer_name: str | None
) -> tuple[list[SyncResult], list[str]]:
    """Sync inside the started app, so peers are called as a query calls them: with the
    federation client, and over TLS as other plugins set it up (mTLS with our SVID)."""
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        records = app[STORAGE].records
        peers = await records.list_peers((PEER_ACTIVE, PEER_UNHEALTHY))
        if peer_name is not None:
            wanted = peer_name.lower()
            peers = [p for p in peers if wanted in (p.id, p.name.lower())]
            if not peers:
                raise click.ClickException(f"no active peer named {peer_name!r}")
        querier = app[PEER_QUERIER]
        done, failed = [], []
        for peer in peers:
            try:
                tls = await first_result(
                    app[PLUGIN_MANAGER].hook.peer_connection_tls(app=app, peer=peer)
                )
                done.append(
                    await sync_peer(
                        records, querier.client, querier.cipher, peer, now=utcnow(), tls=tls
                    )
                )
            except FetchFailed as exc:
                failed.append(f"{peer.name}: {exc.reason}")
            except MirrorFailed as exc:
                failed.append(str(exc))
        return done, failed
    finally:
        await runner.cleanup()
