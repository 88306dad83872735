"""Client commands of ``agentvault-registry``: talk to a running registry over its API.

Every command takes ``--url`` and ``--api-key`` (else ``AGENTVAULT_REGISTRY_URL`` and
``AGENTVAULT_REGISTRY_API_KEY``, else the config directory's files; see
:mod:`agentvault_registry.client.config`) and ``--json`` for output a script reads. A failure
is one ``error:`` line on stderr and exit status 1.
"""

from __future__ import annotations

import asyncio
import functools
import json
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from agentvault_registry.client import config
from agentvault_registry.client.api import RegistryClient
from agentvault_registry.client.config import ClientSettings
from agentvault_registry.client.errors import RegistryAPIError, RegistryClientError
from agentvault_registry.client.importer import (
    ACCEPTED,
    PRESENT,
    Journal,
    Outcome,
    Summary,
    card_files,
    import_cards,
    journal_path,
    registered_hashes,
)

EXIT_FAILURE = 1
#: What the key ``login`` creates may do: everything a developer does from the CLI.
CLI_KEY_SCOPES = ("agents:read", "agents:write", "onboard:tokens")


@contextmanager
def client_errors() -> Iterator[None]:
    """One line per failure, never a traceback."""
    try:
        yield
    except RegistryAPIError as exc:
        reasons = "; ".join(f"{name}: {why}" for name, why in sorted(exc.details.items()))
        click.echo(
            f"error: {exc.message} ({exc.code}){' - ' + reasons if reasons else ''}", err=True
        )
        sys.exit(EXIT_FAILURE)
    except (RegistryClientError, config.ClientConfigError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
    except OSError as exc:
        click.echo(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
        sys.exit(EXIT_FAILURE)


def with_client(command: Callable[..., Awaitable[Any]]) -> Callable[..., None]:
    """Give an async command a configured :class:`RegistryClient` and its settings; add the
    ``--url``/``--api-key``/``--json`` options."""

    @click.option("--url", help=f"Registry URL (default: ${config.URL_ENV}, then config).")
    @click.option("--api-key", help=f"API key (default: ${config.API_KEY_ENV}, then login's).")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    @functools.wraps(command)
    def wrapper(url: str | None, api_key: str | None, as_json: bool, **kwargs: Any) -> None:
        with client_errors():
            settings = config.resolve_settings(url=url, api_key=api_key, as_json=as_json)

            async def run() -> None:
                async with RegistryClient(settings.url, api_key=settings.api_key) as client:
                    await command(client, settings, **kwargs)

            asyncio.run(run())

    return wrapper


def emit(settings: ClientSettings, document: Any, text: str) -> None:
    click.echo(json.dumps(document, indent=2) if settings.as_json else text)


#: Capabilities shown on an agent's line; the rest is counted.
SHOWN_CAPABILITIES = 6


def agent_line(agent: dict[str, Any]) -> str:
    """One agent as a line: its humanReadableId, name, some capabilities, where it lives."""
    capabilities = list(agent.get("capabilities") or [])
    shown = ", ".join(capabilities[:SHOWN_CAPABILITIES])
    if len(capabilities) > SHOWN_CAPABILITIES:
        shown += f", +{len(capabilities) - SHOWN_CAPABILITIES} more"
    line = f"{agent.get('humanReadableId', agent.get('id'))}  {agent.get('name', '')}"
    if shown:
        line += f"  ({shown})"
    if agent.get("is_federated"):
        line += f"  [{agent.get('origin_registry_name') or agent.get('registry_url')}]"
    return line


# ------------------------------------------------------------------------- session


@click.command()
@click.option("--username", help="Username or email (prompted when not given).")
@with_client
async def login(client: RegistryClient, settings: ClientSettings, username: str | None) -> None:
    """Log in and remember the registry and an API key for the next commands.

    With --api-key (or $AGENTVAULT_REGISTRY_API_KEY), that key is checked and stored.
    Otherwise the password logs in and a new API key is created and stored in its place: the
    password itself is never written down.
    """
    if settings.api_key_source in {"flag", "env"}:
        user = await client.me()
        key_id = None
    else:
        client.api_key = None  # a key stored before is replaced, not used to log in
        username = username or click.prompt("Username or email")
        password = click.prompt("Password", hide_input=True)
        by = {"email": username} if "@" in username else {"username": username}
        await client.login(password, **by)
        user = await client.me()
        created = await client.create_api_key(
            f"agentvault-registry CLI on {socket.gethostname()}"[:100], CLI_KEY_SCOPES
        )
        client.api_key, key_id = created["key"], created["id"]
    path = config.store_credentials(settings.url, client.api_key or "", key_id)
    emit(
        settings,
        {"url": settings.url, "username": user.get("username"), "credentials": str(path)},
        f"Logged in to {settings.url} as {user.get('username')}; credentials in {path}",
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def logout(as_json: bool) -> None:
    """Forget the stored credentials (revoke the key itself in the web UI or with a session:
    the registry lets only a logged-in session revoke keys)."""
    with client_errors():
        stored = config.stored_credentials()
        forgotten = config.forget_credentials()
    document = {"forgotten": forgotten, "api_key_id": stored.get("api_key_id")}
    if as_json:
        click.echo(json.dumps(document))
    elif forgotten:
        note = (
            f" (API key {stored['api_key_id']} stays valid until revoked)"
            if stored.get("api_key_id")
            else ""
        )
        click.echo(f"Logged out of {stored.get('url', 'the registry')}{note}")
    else:
        click.echo("Not logged in")


# -------------------------------------------------------------------------- agents


@click.group()
def agents() -> None:
    """Your agents on the registry."""


@agents.command("list")
@click.option("--all", "everyone", is_flag=True, help="Every agent, not only yours.")
@with_client
async def list_agents(client: RegistryClient, settings: ClientSettings, everyone: bool) -> None:
    """List your agents (all of them, page after page)."""
    found = [agent async for agent in client.iter_agents(mine=not everyone)]
    emit(settings, {"agents": found}, "\n".join(map(agent_line, found)) or "No agents")


@agents.command("show")
@click.argument("agent_id")
@with_client
async def show_agent(client: RegistryClient, settings: ClientSettings, agent_id: str) -> None:
    """Show one agent (by UUID, DID or humanReadableId)."""
    agent = await client.get_agent(agent_id)
    lines = [
        f"{key}: {json.dumps(value)}" for key, value in agent.items() if value not in (None, [], {})
    ]
    emit(settings, agent, "\n".join(lines))


@agents.command("publish")
@click.argument("card")
@with_client
async def publish(client: RegistryClient, settings: ClientSettings, card: str) -> None:
    """Register an agent from a card file, or from a card URL the registry fetches."""
    if card.startswith(("http://", "https://")):
        agent = await client.create_agent(card_url=card)
    else:
        agent = await client.create_agent(card=_card_document(Path(card)))
    warnings = "".join(f"\n  warning: {warning}" for warning in agent.get("cardWarnings") or [])
    emit(settings, agent, f"Published {agent['humanReadableId']} ({agent['id']}){warnings}")


def _card_document(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_bytes())
    except ValueError as exc:
        raise RegistryClientError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise RegistryClientError(f"{path} is not a JSON object")
    return document


@agents.command("delete")
@click.argument("agent_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_client
async def delete(
    client: RegistryClient, settings: ClientSettings, agent_id: str, yes: bool
) -> None:
    """Delete one of your agents."""
    if not yes:
        click.confirm(f"Delete {agent_id}?", abort=True)
    await client.delete_agent(agent_id)
    emit(settings, {"deleted": agent_id}, f"Deleted {agent_id}")


# ----------------------------------------------------------------------- discovery


@click.command()
@click.argument("text", required=False)
@click.option("--capability", "capabilities", multiple=True, help="A capability (repeatable).")
@click.option("--all-capabilities", is_flag=True, help="Agents with every --capability.")
@click.option("--type", "agent_type", help="Agent type.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--federated", is_flag=True, help="Ask the registry's peers too.")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@with_client
async def search(
    client: RegistryClient,
    settings: ClientSettings,
    text: str | None,
    capabilities: tuple[str, ...],
    all_capabilities: bool,
    agent_type: str | None,
    tags: tuple[str, ...],
    federated: bool,
    limit: int,
) -> None:
    """Search the registry's agents by text and filters."""
    found = await client.search(
        text,
        capabilities=capabilities or None,
        capability_match="all" if all_capabilities else None,
        agent_type=agent_type,
        tags=tags or None,
        federated=federated,
        per_page=limit,
    )
    lines = [agent_line(agent) for agent in found["agents"]] or ["No agents found"]
    status = found.get("federation_status") or {}
    if federated:
        lines.append(
            f"peers: {status.get('peers_responded', 0)}/{status.get('peers_queried', 0)} answered"
        )
    emit(settings, found, "\n".join(lines))


# -------------------------------------------------------------------------- tokens


@click.group()
def tokens() -> None:
    """Bootstrap tokens agents onboard themselves with."""


@tokens.command("create")
@click.option("--agent-type-hint", help="The agent type the token is meant for.")
@click.option("--metadata", "metadata", multiple=True, metavar="KEY=VALUE", help="Repeatable.")
@click.option("--expires-in", type=int, help="Seconds until the token expires.")
@with_client
async def create_token(
    client: RegistryClient,
    settings: ClientSettings,
    agent_type_hint: str | None,
    metadata: tuple[str, ...],
    expires_in: int | None,
) -> None:
    """Mint a single-use bootstrap token (shown once)."""
    pairs = dict(item.partition("=")[::2] for item in metadata)
    issued = await client.create_bootstrap_token(
        agent_type_hint=agent_type_hint, metadata=pairs, expires_in=expires_in
    )
    emit(settings, issued, f"{issued['bootstrap_token']}\n(expires {issued['expires_at']})")


# ------------------------------------------------------------------ import, export


@click.command("import")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--concurrency", type=click.IntRange(1, 16), default=4, show_default=True)
@click.option("--fresh", is_flag=True, help="Ignore the journal of earlier runs.")
@with_client
async def import_command(
    client: RegistryClient,
    settings: ClientSettings,
    sources: tuple[Path, ...],
    concurrency: int,
    fresh: bool,
) -> None:
    """Publish every card file of SOURCES (directories searched for *.json).

    Cards already registered by you are skipped; the registry's refusals are reported with
    their reasons and never stop the run. An interrupted run picks up where it stopped.
    """
    files = card_files(sources)
    journal = Journal(journal_path(config.config_dir(), sources))
    if fresh:
        journal.forget()
    present = await registered_hashes(client)
    with click.progressbar(
        length=len(files), label="Importing", file=sys.stderr, show_pos=True
    ) as bar:
        summary = await import_cards(
            client,
            files,
            journal,
            present,
            concurrency=concurrency,
            progress=lambda _: bar.update(1),
        )
    emit(settings, summary.as_json(), summary_text(summary))


def summary_text(summary: Summary) -> str:
    lines = [
        f"accepted: {len(summary.with_status(ACCEPTED))}",
        f"already present: {len(summary.with_status(PRESENT))}",
        f"refused: {sum(len(group) for group in summary.refusals_by_reason().values())}",
    ]
    for reason, outcomes in sorted(summary.refusals_by_reason().items()):
        lines.append(f"  {reason} ({len(outcomes)})")
        lines.extend(_refusal_lines(outcome) for outcome in outcomes)
    return "\n".join(lines)


def _refusal_lines(outcome: Outcome) -> str:
    details = "".join(f"\n        {reason}" for reason in outcome.reasons())
    return f"    {outcome.file}{details}"


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path))
@with_client
async def export(client: RegistryClient, settings: ClientSettings, out_dir: Path | None) -> None:
    """Write the card of every agent of yours to <humanReadableId>.json in --out (default:
    the config's export_dir, else the current directory)."""
    directory = out_dir or Path(
        config.read_toml(config.config_dir() / config.CONFIG_FILE).get("export_dir", ".")
    )
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    async for agent in client.iter_agents(mine=True, fields=["id", "humanReadableId"]):
        card = await client.get_agent_card(agent["id"])
        path = directory / f"{agent['humanReadableId']}.json"
        path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        written.append(str(path))
    emit(settings, {"files": written}, f"Exported {len(written)} card(s) to {directory}")


COMMANDS = (login, logout, agents, search, tokens, import_command, export)


def register_commands(group: click.Group) -> None:
    """Add the client commands to the ``agentvault-registry`` group."""
    for command in COMMANDS:
        group.add_command(command)
