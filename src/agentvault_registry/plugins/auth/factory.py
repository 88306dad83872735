"""Building the auth services from the plugin's options; shared by the app and the CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from agentvault_registry.core.ratelimit import RateLimiter
from agentvault_registry.plugins.auth.api_keys import ApiKeyService
from agentvault_registry.plugins.auth.passwords import DEFAULT_PEPPER, PasswordHasher
from agentvault_registry.plugins.auth.service import AuthService, AuthSettings
from agentvault_registry.plugins.auth.tokens import SYMMETRIC_ALGORITHMS, SigningKey, TokenCodec
from agentvault_registry.plugins.mail.mailer import Mailer
from agentvault_registry.storage_backends.base import RecordsBackend

DEFAULT_KID = "default"


def build_codec(options: Mapping[str, Any], jwt_secret: str) -> TokenCodec:
    algorithm = options["jwt_algorithm"]
    if not options["jwt_keys"]:
        keys = [SigningKey(DEFAULT_KID, algorithm, jwt_secret, jwt_secret)]
    elif algorithm in SYMMETRIC_ALGORITHMS:
        keys = [
            SigningKey(key["kid"], algorithm, key["secret"].reveal(), key["secret"].reveal())
            for key in options["jwt_keys"]
        ]
    else:
        keys = [
            SigningKey(
                key["kid"],
                algorithm,
                key["private_key"].reveal() if key["private_key"] else None,
                key["public_key"],
            )
            for key in options["jwt_keys"]
        ]
    return TokenCodec(keys, issuer=options["issuer"], audience=options["audience"])


def build_hasher(options: Mapping[str, Any]) -> PasswordHasher:
    pepper = options["password_pepper"]
    return PasswordHasher(
        options["bcrypt_cost"],
        pepper.reveal().encode("utf-8") if pepper else DEFAULT_PEPPER,
        workers=options["hash_workers"],
    )


def build_services(
    options: Mapping[str, Any],
    *,
    records: RecordsBackend,
    limiter: RateLimiter,
    mailer: Mailer,
    jwt_secret: str,
) -> tuple[AuthService, ApiKeyService]:
    settings = AuthSettings(
        access_ttl=dt.timedelta(seconds=options["access_token_ttl"]),
        refresh_ttl=dt.timedelta(seconds=options["refresh_token_ttl"]),
        verification_ttl=dt.timedelta(seconds=options["verification_token_ttl"]),
        reset_ttl=dt.timedelta(seconds=options["reset_token_ttl"]),
    )
    auth = AuthService(
        records, limiter, mailer, build_hasher(options), build_codec(options, jwt_secret), settings
    )
    return auth, ApiKeyService(records)
