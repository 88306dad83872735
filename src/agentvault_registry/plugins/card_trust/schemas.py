"""The card_trust plugin's config."""

from __future__ import annotations

from marshmallow import fields, validate

from agentvault_registry.config.secrets import SecretField
from agentvault_registry.plugins.agents.schemas import Strict


class CardTrustOptions(Strict):
    #: Refuse (422) a card whose signatures are not ``valid``: unsigned ones included.
    require_signed_cards = fields.Boolean(load_default=False)
    #: Add the registry's own signature to every card it serves.
    sign_served_cards = fields.Boolean(load_default=True)
    #: PEM of an Ed25519 or EC P-256 private key; unset, the registry generates one once and
    #: keeps it in its records, shared by every process serving the registry.
    signing_key = SecretField(load_default=None, allow_none=True)
    #: Retired keys (private or public PEM), still published in the JWK Set.
    previous_signing_keys = fields.List(SecretField(), load_default=list)
    #: Seconds a fetched JWK Set is trusted before it is fetched again.
    jwks_cache_ttl = fields.Integer(load_default=300, validate=validate.Range(0, 86_400))
    #: Seconds a JWK Set has to arrive.
    jwks_timeout = fields.Float(load_default=5.0, validate=validate.Range(0.05, 60))
    #: Keys fetched over plain http:// (tests, a private network); https only otherwise,
    #: since whoever can alter the keys in transit can sign any card.
    allow_http_keys = fields.Boolean(load_default=False)
