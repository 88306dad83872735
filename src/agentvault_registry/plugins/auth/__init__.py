"""The auth plugin: developer accounts, sessions (JWT access + rotating refresh tokens), API
keys, email verification, password recovery, and the admins' management of accounts.

Config example::

    [plugins.auth]
    bcrypt_cost = 12
    access_token_ttl = 900            # seconds
    refresh_token_ttl = 1209600
    password_pepper = { env = "AVREG_PASSWORD_PEPPER" }
    jwt_algorithm = "EdDSA"           # HS256 (default, uses security.jwt_secret), EdDSA, RS256
    jwt_keys = [
      { kid = "2026-11", private_key = { file = "/run/secrets/jwt-2026-11.pem" },
        public_key = "-----BEGIN PUBLIC KEY-----\\n..." },
      { kid = "2026-05", public_key = "..." },   # retired: verifies until removed
    ]
"""

from __future__ import annotations

from typing import Any

import click
from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import JWT_SECRET, RATE_LIMITER, SETTINGS, STORAGE
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.core.ratelimit import RateLimit
from agentvault_registry.plugins.auth import admin_views, commands, credentials, views
from agentvault_registry.plugins.auth.appkeys import API_KEY_SERVICE, AUTH_SERVICE
from agentvault_registry.plugins.auth.factory import build_services
from agentvault_registry.plugins.auth.schemas import AuthOptions
from agentvault_registry.plugins.mail.appkeys import MAILER

REQUIRES = ("mail",)
NAME = "auth"


@hookimpl
def register_config_schema() -> type[AuthOptions]:
    return AuthOptions


@hookimpl
def register_routes(settings: Settings) -> list[web.RouteDef]:
    return views.routes() + admin_views.routes()


@hookimpl
def register_rate_limits() -> list[RateLimit]:
    # Minting credentials fails closed when the shared counters are unreachable: a
    # per-process limit would multiply the allowance by the number of workers.
    return [
        RateLimit("auth.login", "5/minute", "closed", "login attempts per client"),
        RateLimit("auth.register", "3/hour", "closed", "accounts created per client"),
        RateLimit("auth.refresh", "30/minute", "closed", "token refreshes per client"),
        RateLimit("auth.recover", "5/hour", "closed", "password-reset requests per client"),
        RateLimit("auth.recover_confirm", "10/hour", "closed", "reset tokens tried per client"),
        RateLimit("auth.login_failures", "100/hour", "closed", "failed logins per login name"),
        RateLimit("auth.api_keys", "10/hour", "closed", "API keys minted per client"),
        RateLimit("auth.password", "5/minute", "closed", "password changes per client"),
        RateLimit("auth.verify_email", "10/minute", "local", "email verifications per client"),
    ]


@hookimpl
def startup(app: web.Application) -> Any:
    async def start() -> None:
        storage = app[STORAGE]
        auth, api_keys = build_services(
            app[SETTINGS].plugin_config(NAME),
            records=storage.records,
            limiter=app[RATE_LIMITER],
            mailer=app[MAILER],
            jwt_secret=app[JWT_SECRET],
        )
        await auth.hasher.prepare()
        app[AUTH_SERVICE] = auth
        app[API_KEY_SERVICE] = api_keys

    return start()


@hookimpl
def shutdown(app: web.Application) -> None:
    if AUTH_SERVICE in app:
        app[AUTH_SERVICE].hasher.close()


@hookimpl
def identity_from_request(request: web.Request) -> Any:
    credential = credentials.presented_credential(request)
    if credential is None:
        return None
    return credentials.identify(request.app, credential)


@hookimpl
def register_commands(cli: click.Group) -> None:
    commands.add_commands(cli)
