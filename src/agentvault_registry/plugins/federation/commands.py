"""Operator commands: ``federation sync`` pulls each peer's change feed into a local mirror."""

from __future__ import annotations

import asyncio

import click

from agentvault_registry.cli import config_option, load, user_errors
from agentvault_registry.core.errors import FetchFailed, RegistryError
from agentvault_registry.core.httpclient import SafeHttpClient
from agentvault_registry.core.httpclient.lifecycle import registry_user_agent
from agentvault_registry.plugins.federation import factory
from agentvault_registry.plugins.federation.mirror import MirrorFailed, SyncResult, sync_peer
from agentvault_registry.plugins.federation.service import utcnow
from agentvault_registry.storage_backends.federation import PEER_ACTIVE, PEER_UNHEALTHY
from agentvault_registry.storage_backends.storage import configured_backend


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
        cipher = factory.token_cipher(settings)

        async def main() -> tuple[list[SyncResult], list[str]]:
            records = configured_backend(settings, pm, "records")
            await records.open()
            try:
                peers = await records.list_peers((PEER_ACTIVE, PEER_UNHEALTHY))
                if peer_name is not None:
                    wanted = peer_name.lower()
                    peers = [p for p in peers if wanted in (p.id, p.name.lower())]
                    if not peers:
                        raise click.ClickException(f"no active peer named {peer_name!r}")
                done, failed = [], []
                async with SafeHttpClient(
                    factory.outbound_settings(settings), user_agent=registry_user_agent(settings)
                ) as client:
                    for peer in peers:
                        try:
                            done.append(
                                await sync_peer(records, client, cipher, peer, now=utcnow())
                            )
                        except FetchFailed as exc:
                            failed.append(f"{peer.name}: {exc.reason}")
                        except MirrorFailed as exc:
                            failed.append(str(exc))
                return done, failed
            finally:
                await records.close()

        try:
            done, failed = asyncio.run(main())
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
