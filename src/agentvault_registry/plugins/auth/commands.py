"""Operator commands: ``create-admin`` and ``users list|deactivate|set-role``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from agentvault_registry.cli import config_option, load, user_errors
from agentvault_registry.core.errors import NotFound, RegistryError
from agentvault_registry.core.lifecycle import jwt_secret
from agentvault_registry.core.ratelimit import RateLimiter, declared_rate_limits
from agentvault_registry.plugins.auth.factory import build_services
from agentvault_registry.plugins.auth.policy import password_problems
from agentvault_registry.plugins.auth.scopes import ADMIN, ROLES
from agentvault_registry.plugins.auth.service import AuthService
from agentvault_registry.plugins.mail.mailer import ConsoleMailer
from agentvault_registry.storage_backends.storage import configured_backend

NAME = "auth"


def add_commands(cli: click.Group) -> None:
    cli.add_command(create_admin)
    cli.add_command(users)


def run_with_service(config_file: str | None, work: Callable[[AuthService], Awaitable[Any]]) -> Any:
    """Open the records and cache backends the config names, run ``work``, close them."""
    with user_errors():
        settings, pm = load(config_file)

        async def main() -> Any:
            records = configured_backend(settings, pm, "records")
            cache = configured_backend(settings, pm, "cache")
            try:
                await records.open()
                await cache.open()
                limiter = RateLimiter(
                    declared_rate_limits(pm).values(), settings.rate_limits, lambda: cache
                )
                service, _ = build_services(
                    settings.plugin_config(NAME),
                    records=records,
                    limiter=limiter,
                    mailer=ConsoleMailer("cli@localhost"),
                    jwt_secret=jwt_secret(settings),
                )
                try:
                    return await work(service)
                finally:
                    service.hasher.close()
            finally:
                await cache.close()
                await records.close()

        try:
            return asyncio.run(main())
        except RegistryError as exc:
            raise click.ClickException(exc.message) from None


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.command("create-admin")
@config_option
@click.option("--email", required=True)
@click.option("--username", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_admin(config_file: str | None, email: str, username: str, password_stdin: bool) -> None:
    """Create an administrator account (verified, active)."""
    password = _read_password(password_stdin)
    problems = password_problems(password, username=username, email=email)
    if problems:
        raise click.ClickException(f"password: {' '.join(problems)}")
    user = run_with_service(
        config_file,
        lambda service: service.create_account(
            email, username, password, role=ADMIN, verified=True
        ),
    )
    click.echo(f"created admin {user.username} ({user.id})")


@click.group()
def users() -> None:
    """Manage developer and admin accounts."""


@users.command("list")
@config_option
@click.option("--limit", type=click.IntRange(1, 1000), default=100)
@click.option("--after", help="Continue after this username.")
def list_users(config_file: str | None, limit: int, after: str | None) -> None:
    """List accounts by username."""
    rows = run_with_service(
        config_file, lambda service: service.records.list_users(limit=limit, after=after)
    )
    for user in rows:
        state = "active" if user.is_active else "inactive"
        verified = "verified" if user.is_verified else "unverified"
        click.echo(f"{user.username}\t{user.email}\t{user.role}\t{state}\t{verified}\t{user.id}")


async def _find(service: AuthService, login: str) -> str:
    user = await service.records.find_user_by_login(login)
    if user is None:
        raise NotFound(f"No account with email or username {login!r}.")
    return user.id


@users.command()
@config_option
@click.argument("login")
def deactivate(config_file: str | None, login: str) -> None:
    """Deactivate an account (by email or username) and end all its sessions."""

    async def work(service: AuthService) -> Any:
        return await service.deactivate(await _find(service, login))

    user = run_with_service(config_file, work)
    click.echo(f"deactivated {user.username}")


@users.command("set-role")
@config_option
@click.argument("login")
@click.argument("role", type=click.Choice(ROLES))
def set_role(config_file: str | None, login: str, role: str) -> None:
    """Change an account's role; its sessions end so new tokens carry the role."""

    async def work(service: AuthService) -> Any:
        return await service.set_role(await _find(service, login), role)

    user = run_with_service(config_file, work)
    click.echo(f"{user.username} is now {user.role}")
