"""Building the plugin's parts from config: shared by the app's startup and the CLI."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from agentvault_registry.config.settings import OutboundSettings, Settings
from agentvault_registry.core.errors import ConfigError
from agentvault_registry.core.httpclient import SafeHttpClient
from agentvault_registry.core.httpclient.addresses import AddressPolicy
from agentvault_registry.core.jwks import JwksFetcher
from agentvault_registry.core.lifecycle import development_secret
from agentvault_registry.plugins.federation.fanout import FanoutSettings
from agentvault_registry.plugins.federation.health import HealthPolicy
from agentvault_registry.plugins.federation.origin import OriginSignatures
from agentvault_registry.plugins.federation.service import PeerUrlPolicy
from agentvault_registry.plugins.federation.tokens import TokenCipher
from agentvault_registry.storage_backends.base import CacheBackend

NAME = "federation"
DEV_KEY_FILE = "federation-token-key"
KEY_SETTING = "plugins.federation.token_key"


def options(settings: Settings) -> Mapping[str, Any]:
    return settings.plugin_config(NAME)


def token_cipher(settings: Settings) -> TokenCipher:
    """The cipher of outbound tokens: the configured keys, or in development mode a key
    generated once per data dir. Production without a key stops startup."""
    config = options(settings)
    current = config.get("token_key")
    if current is not None:
        first = current.reveal()
    elif settings.production:
        raise ConfigError(
            f"{KEY_SETTING}: required in production mode (it encrypts the tokens we present "
            'to peers); set it, for example token_key = { env = "AVREG_FEDERATION_KEY" }'
        )
    else:
        first = development_secret(settings, DEV_KEY_FILE, KEY_SETTING)
    keys = [first, *(key.reveal() for key in config.get("previous_token_keys", ()))]
    try:
        return TokenCipher(keys)
    except ValueError as exc:
        raise ConfigError(f"{KEY_SETTING}: {exc}") from None


def outbound_settings(settings: Settings) -> OutboundSettings:
    """The outbound client settings for peers: the app's, with private peers reachable when
    federation allows them (and only for federation's own client)."""
    config = options(settings)
    return dataclasses.replace(
        settings.outbound,
        allow_private_targets=settings.outbound.allow_private_targets
        or config["allow_private_peers"],
        max_response_bytes=config["max_response_bytes"],
        # A peer that answers with a redirect is refused, not followed (see post_json).
        max_redirects=0,
    )


def url_policy(settings: Settings) -> PeerUrlPolicy:
    outbound = outbound_settings(settings)
    return PeerUrlPolicy(
        allow_http=options(settings)["allow_http"],
        addresses=AddressPolicy(
            allow_private=outbound.allow_private_targets,
            networks=outbound.allowed_private_networks,
        ),
    )


def health_policy(settings: Settings) -> HealthPolicy:
    config = options(settings)
    return HealthPolicy(failure_threshold=config["failure_threshold"], backoff=config["backoff"])


def origin_signatures(
    settings: Settings, client: SafeHttpClient, cache: CacheBackend
) -> OriginSignatures:
    """The check of peers' signatures; their keys are fetched like their answers (peers at
    http:// URLs are refused before that, unless allow_http)."""
    config = options(settings)
    keys = JwksFetcher(
        client,
        cache,
        ttl=config["peer_keys_ttl"],
        timeout=config["peer_timeout"],
        allow_http=True,
        cache_prefix="federation",
    )
    return OriginSignatures(keys, required=config["require_peer_signatures"])


def fanout_settings(settings: Settings) -> FanoutSettings:
    config = options(settings)
    return FanoutSettings(
        peer_timeout=config["peer_timeout"],
        deadline=config["deadline"],
        cache_ttl=config["cache_ttl"],
        allow_http=config["allow_http"],
    )
