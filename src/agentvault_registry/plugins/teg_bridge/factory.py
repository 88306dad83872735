"""Building the bridge's parts from config at startup; every problem is one ConfigError line
naming the option."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from yarl import URL

from agentvault_registry.config.settings import OutboundSettings, Settings
from agentvault_registry.core.appkeys import INSTANCE_ID, PLUGIN_MANAGER, SETTINGS
from agentvault_registry.core.asyncutils import first_result
from agentvault_registry.core.errors import ConfigError, FetchRefused
from agentvault_registry.core.httpclient import SafeHttpClient
from agentvault_registry.core.httpclient.addresses import AddressPolicy
from agentvault_registry.core.httpclient.lifecycle import registry_user_agent
from agentvault_registry.core.httpclient.targets import check_target
from agentvault_registry.core.signing_keys import (
    SigningKey,
    development_key_pem,
    retired_public_jwk,
    signing_key,
)
from agentvault_registry.plugins.teg_bridge.assertions import AssertionSigner, AssertionSource
from agentvault_registry.plugins.teg_bridge.bridge import (
    MAX_TOKEN_RESPONSE_BYTES,
    ClientCredentials,
    OAuthBridge,
)
from agentvault_registry.plugins.teg_bridge.service import TegSettings

NAME = "teg_bridge"
SECTION = f"plugins.{NAME}"
KEY_SETTING = f"{SECTION}.signing_key"
DEV_KEY_FILE = "teg-signing-key.pem"


def options(settings: Settings) -> Mapping[str, Any]:
    return settings.plugin_config(NAME)


def token_url(settings: Settings) -> str | None:
    """The TEG's token endpoint, None for the null bridge. Literal addresses are checked
    here; host names are checked on every connection, on the address connected to."""
    configured = options(settings)["token_url"]
    if configured is None:
        return None
    outbound = outbound_settings(settings)
    policy = AddressPolicy(
        allow_private=outbound.allow_private_targets, networks=outbound.allowed_private_networks
    )
    try:
        check_target(URL(configured), policy)
    except FetchRefused as exc:
        raise ConfigError(
            f"{SECTION}.token_url: {exc.reason} (set allow_private = true to allow it)"
        ) from None
    return configured


def configured_signing_key(settings: Settings) -> SigningKey | None:
    configured = options(settings)["signing_key"]
    return None if configured is None else signing_key(configured.reveal(), KEY_SETTING)


def assertion_signing_key(settings: Settings) -> SigningKey:
    """The configured signing key, or in development mode one generated once into the data
    dir; production without one stops startup."""
    configured = configured_signing_key(settings)
    if configured is not None:
        return configured
    if settings.production:
        raise ConfigError(
            f"{KEY_SETTING}: required in production mode when token_url is set (it signs the "
            'agents\' assertions); set it, e.g. signing_key = { file = "/run/secrets/teg.pem" }'
        )
    pem = development_key_pem(settings.data_dir / DEV_KEY_FILE, KEY_SETTING, "TEG assertion")
    return signing_key(pem, f"{KEY_SETTING} (generated in {settings.data_dir})")


def retired_public_keys(settings: Settings) -> tuple[dict[str, Any], ...]:
    return tuple(
        retired_public_jwk(pem.reveal(), f"{SECTION}.previous_signing_keys[{index}]")
        for index, pem in enumerate(options(settings)["previous_signing_keys"])
    )


def issuer(settings: Settings, instance_id: str) -> str:
    """``iss`` of the registry's assertions: configured, the public URL, or (development
    mode without a public URL) a URN naming this registry's instance id, shown by /ready."""
    configured = options(settings)["issuer"]
    if configured is not None:
        return configured
    if settings.server.public_url:
        return settings.server.public_url.rstrip("/")
    return f"urn:agentvault:registry:{instance_id}"


def outbound_settings(settings: Settings) -> OutboundSettings:
    """The bridge's own client: the app's settings, with the TEG reachable at a private
    address when the bridge allows it (and only for the bridge), within its timeout."""
    config = options(settings)
    return dataclasses.replace(
        settings.outbound,
        allow_private_targets=settings.outbound.allow_private_targets or config["allow_private"],
        connect_timeout=min(settings.outbound.connect_timeout, config["timeout"]),
        total_timeout=config["timeout"],
        max_response_bytes=MAX_TOKEN_RESPONSE_BYTES,
        # A token endpoint that redirects is refused, never followed (see post_form).
        max_redirects=0,
    )


def client_credentials(settings: Settings) -> ClientCredentials | None:
    config = options(settings)
    if config["client_id"] is None:
        return None
    return ClientCredentials(config["client_id"], config["client_secret"])


def token_settings(settings: Settings) -> TegSettings:
    config = options(settings)
    return TegSettings(
        scopes=tuple(dict.fromkeys(config["scope"].split())),
        refresh_margin=config["refresh_margin"],
    )


def oauth_bridge(app: web.Application, token_url: str, key: SigningKey) -> OAuthBridge:
    """The bridge to the TEG at ``token_url``, with its own client (opened by startup)."""
    settings = app[SETTINGS]
    config = options(settings)
    signer = AssertionSigner(key, issuer(settings, app[INSTANCE_ID]), config["assertion_ttl"])
    hooks = app[PLUGIN_MANAGER].hook
    assertions = AssertionSource(
        lambda agent, audience: first_result(
            hooks.agent_assertion(app=app, agent=agent, audience=audience)
        ),
        signer,
    )
    client = SafeHttpClient(outbound_settings(settings), user_agent=registry_user_agent(settings))
    return OAuthBridge(
        token_url,
        client,
        assertions,
        credentials=client_credentials(settings),
        timeout=config["timeout"],
    )
