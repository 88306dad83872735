"""card_trust: which listed agents are authentic.

- **Card signatures** (A2A §8.4): every card registered or updated has its ``signatures``
  checked: JWS over the RFC 8785 canonical card without ``signatures``, with EdDSA, ES256 or
  RS256 keys from the header's ``jku`` or from ``/.well-known/jwks.json`` at the provider's or
  an interface's origin (see :mod:`.signatures`). The agent keeps the verdict as its
  ``signature`` (``none``, ``valid``, ``invalid`` or ``unverifiable``, with the key id and
  the domain that vouched); discovery filters on it (``signed=true``).
- **Registry-signed cards**: ``GET /api/v1/agents/{id}/card`` carries, after the card's own
  signatures, one by this registry, whose keys are at ``/.well-known/jwks.json``; so do the
  results this registry answers peers with (the federation plugin checks peers' against their
  JWK Set).

Config example::

    [plugins.card_trust]
    require_signed_cards = false     # refuse cards without a valid signature
    sign_served_cards = true         # sign the cards (and peer answers) this registry serves
    signing_key = { file = "/run/secrets/card-signing-key.pem" }  # Ed25519 or P-256 PEM;
                                     # unset: generated once, kept in the records
    previous_signing_keys = []       # retired keys (PEM), still published
    jwks_cache_ttl = 300             # seconds a fetched JWK Set is used
    jwks_timeout = 5.0
    allow_http_keys = false          # fetch JWK Sets over plain http (tests, private nets)
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from marshmallow import Schema

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import HTTP_CLIENT, SETTINGS, STORAGE
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.core.jwks import JwksFetcher, jwks_url
from agentvault_registry.core.signing_keys import (
    KeyRing,
    generated_key_pem,
    retired_public_jwk,
    signing_key,
)
from agentvault_registry.plugins.card_trust.appkeys import CARD_TRUST
from agentvault_registry.plugins.card_trust.schemas import CardTrustOptions
from agentvault_registry.plugins.card_trust.service import CardTrustService, TrustPolicy

NAME = "card_trust"
SECTION = f"plugins.{NAME}"
REQUIRES = ("agents",)
#: Where the generated signing key is kept when none is configured: one key for every process.
GENERATED_KEY_META = "card_trust_signing_key"


@hookimpl
def register_config_schema() -> type[Schema]:
    return CardTrustOptions


@hookimpl
def startup(app: web.Application) -> Any:
    return _start(app)


async def _start(app: web.Application) -> None:
    settings: Settings = app[SETTINGS]
    options = settings.plugin_config(NAME)
    storage = app[STORAGE]
    fetcher = JwksFetcher(
        app[HTTP_CLIENT],
        storage.cache,
        ttl=options["jwks_cache_ttl"],
        timeout=options["jwks_timeout"],
        allow_http=options["allow_http_keys"],
        cache_prefix=NAME,
    )
    policy = TrustPolicy(
        require_signed_cards=options["require_signed_cards"],
        sign_served_cards=options["sign_served_cards"],
    )
    keys = KeyRing(await _current_key(app, options), _retired_keys(options))
    # A card's keys may come from a few origins, one after the other.
    deadline = 2 * options["jwks_timeout"]
    app[CARD_TRUST] = CardTrustService(policy, fetcher, keys, deadline)


async def _current_key(app: web.Application, options: Any) -> Any:
    configured = options["signing_key"]
    if configured is not None:
        return signing_key(configured.reveal(), f"{SECTION}.signing_key")
    # put_meta_if_absent is atomic: processes starting together all end up with one key.
    pem = await app[STORAGE].records.put_meta_if_absent(GENERATED_KEY_META, generated_key_pem())
    return signing_key(pem, f"{SECTION}.signing_key (generated, kept in the records)")


def _retired_keys(options: Any) -> tuple[dict[str, Any], ...]:
    return tuple(
        retired_public_jwk(pem.reveal(), f"{SECTION}.previous_signing_keys[{index}]")
        for index, pem in enumerate(options["previous_signing_keys"])
    )


@hookimpl
def register_public_keys(app: web.Application) -> list[dict[str, Any]]:
    service = app.get(CARD_TRUST)
    return [] if service is None else service.keys.public_jwks()


@hookimpl
def check_card_signatures(
    app: web.Application, document: Any, card: Any, signatures_member: str
) -> Any:
    return app[CARD_TRUST].check_card(document, card, signatures_member)


@hookimpl
def sign_document(
    app: web.Application, document: Any, signatures_member: str, base_url: str
) -> Any:
    return app[CARD_TRUST].sign(document, signatures_member, jwks_url(base_url))
