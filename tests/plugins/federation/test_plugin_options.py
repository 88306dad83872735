"""The registry with federation disabled, and the plugin's config checked at startup."""

from __future__ import annotations

import re

import pytest

from agentvault_registry.core.errors import ConfigError
from agentvault_registry.plugins.federation.factory import token_cipher


async def test_the_registry_runs_without_the_federation_plugin(aiohttp_client, make_app):
    client = await aiohttp_client(make_app({"plugins": {"disabled": ["federation"]}}))
    search = await client.get("/api/v1/discovery/agents", params={"include_federated": "true"})
    assert search.status == 200
    assert (await search.json())["federation_status"]["peers_queried"] == 0
    assert (await client.get("/api/v1/admin/federation/peers")).status == 404
    assert (await client.post("/api/v1/internal/federation/query", json={})).status == 404


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"peer_timeout": 3, "deadline": 2}, "deadline"),
        ({"peer_timeout": 0}, "peer_timeout"),
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"cache_ttl": -1}, "cache_ttl"),
        ({"max_response_bytes": 10}, "max_response_bytes"),
        ({"allow_http": "sometimes"}, "allow_http"),
        ({"unknown_option": 1}, "unknown_option"),
    ],
)
def test_bad_options_stop_startup_naming_the_option(make_settings, options, problem):
    with pytest.raises(ConfigError) as raised:
        make_settings({"plugins": {"federation": options}})
    assert any(problem in line for line in raised.value.problems), raised.value.problems


def test_production_needs_a_token_key(make_settings):
    settings, _ = make_settings(
        {
            "mode": "production",
            "security": {"jwt_secret": "s" * 48},
            "server": {"public_url": "https://registry.example.org"},
            "storage": {"allow_embedded": True},
        }
    )
    needed = re.escape("plugins.federation.token_key: required in production")
    with pytest.raises(ConfigError, match=needed):
        token_cipher(settings)


def test_a_short_token_key_is_refused(make_settings):
    settings, _ = make_settings({"plugins": {"federation": {"token_key": "short"}}})
    with pytest.raises(ConfigError, match="at least 32 characters"):
        token_cipher(settings)


def test_development_generates_a_token_key_once(make_settings):
    settings, _ = make_settings()
    stored = token_cipher(settings).encrypt("avf_peer_token")
    assert token_cipher(settings).decrypt(stored) == "avf_peer_token"
    assert (settings.data_dir / "federation-token-key").stat().st_mode & 0o077 == 0


def test_tokens_stored_under_an_old_key_still_decrypt_after_rotation(make_settings):
    old_key, new_key = "o" * 40, "n" * 40
    old, _ = make_settings({"plugins": {"federation": {"token_key": old_key}}})
    rotated, _ = make_settings(
        {"plugins": {"federation": {"token_key": new_key, "previous_token_keys": [old_key]}}}
    )
    forgotten, _ = make_settings({"plugins": {"federation": {"token_key": new_key}}})
    stored = token_cipher(old).encrypt("avf_peer_token")
    assert token_cipher(rotated).decrypt(stored) == "avf_peer_token"
    with pytest.raises(ValueError):
        token_cipher(forgotten).decrypt(stored)
