"""The registry with federation disabled, and the plugin's config checked at startup."""

from __future__ import annotations

import re

import pytest

from agentvault_registry.core.app import create_app
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


async def test_production_needs_a_token_key(aiohttp_client, make_settings):
    settings, pm = make_settings(
        {
            "mode": "production",
            "security": {"jwt_secret": "s" * 48},
            "storage": {"allow_embedded": True},
        }
    )
    with pytest.raises(
        ConfigError, match=re.escape("plugins.federation.token_key: required in production")
    ):
        await aiohttp_client(create_app(settings, pm))


async def test_a_short_token_key_is_refused(aiohttp_client, make_settings):
    settings, pm = make_settings({"plugins": {"federation": {"token_key": "short"}}})
    with pytest.raises(ConfigError, match="at least 32 characters"):
        await aiohttp_client(create_app(settings, pm))


async def test_tokens_stored_under_an_old_key_still_decrypt_after_rotation(make_settings):
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
