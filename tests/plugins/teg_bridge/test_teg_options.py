"""The bridge without a TEG (501), without the plugin (404, registry healthy), and its config
checked when the registry starts: one clear line per problem."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from teg_helpers import TOKEN, app_overrides, ask_token, ed25519_pem, onboarded_agent

from agentvault_registry.core.app import create_app
from agentvault_registry.core.appkeys import SETTINGS
from agentvault_registry.core.errors import ConfigError
from agentvault_registry.plugins.card_trust.appkeys import CARD_TRUST
from agentvault_registry.plugins.teg_bridge import factory

PRODUCTION = {
    "mode": "production",
    "security": {"jwt_secret": "s" * 48},
    "server": {"public_url": "https://registry.example.org"},
    "storage": {"allow_embedded": True},
    "plugins": {"federation": {"token_key": "k" * 40}},
}


async def test_without_a_token_url_the_null_bridge_answers_not_configured(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(app_overrides()))
    assert (await client.post(TOKEN)).status == 401
    agent = await onboarded_agent(client)
    response = await ask_token(client, agent)
    assert response.status == 501
    body = await response.json()
    assert body["error"] == "not_configured"
    assert "plugins.teg_bridge.token_url" in body["message"]
    # Nothing to sign with, nothing published but the card signing key, no key generated.
    published = (await (await client.get("/.well-known/jwks.json")).json())["keys"]
    assert published == client.app[CARD_TRUST].keys.public_jwks()
    assert not (client.app[SETTINGS].data_dir / factory.DEV_KEY_FILE).exists()


async def test_the_registry_runs_without_the_plugin(aiohttp_client, make_app):
    overrides = app_overrides(plugins={"disabled": ["teg_bridge"]})
    del overrides["rate_limits"]["teg.token"]  # no plugin declares it now
    client = await aiohttp_client(make_app(overrides))
    assert (await client.post(TOKEN)).status == 404
    assert (await client.get("/health")).status == 200
    ready = await client.get("/ready")
    assert ready.status == 200, await ready.text()
    assert (await client.get("/.well-known/jwks.json")).status == 200
    document = await (await client.get("/api/v1/openapi.json")).json()
    assert TOKEN not in document["paths"]


async def test_the_route_is_documented(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(app_overrides()))
    document = await (await client.get("/api/v1/openapi.json")).json()
    operation = document["paths"][TOKEN]["post"]
    assert {"401", "403", "422", "429", "501", "502", "503"} <= set(operation["responses"])
    assert "teg.token" in operation["responses"]["429"]["description"]


@pytest.mark.parametrize(
    ("options", "option", "problem"),
    [
        ({"token_url": "http://teg.example.org/t"}, "token_url", "set allow_http = true"),
        ({"token_url": "ftp://teg.example.org/t"}, "token_url", "Must be an https URL"),
        ({"token_url": "https://user:pw@teg.example.org/t"}, "token_url", "No credentials"),
        ({"token_url": "https://teg.example.org/t#x"}, "token_url", "has no fragment"),
        ({"token_url": "https:///token"}, "token_url", "no host"),
        ({"scope": ""}, "scope", ""),
        ({"scope": "agent:economics  agent:reputation"}, "scope", "single spaces"),
        ({"assertion_ttl": 301}, "assertion_ttl", ""),
        ({"assertion_ttl": 0}, "assertion_ttl", ""),
        ({"refresh_margin": -1}, "refresh_margin", ""),
        ({"timeout": 0}, "timeout", ""),
        ({"client_id": "registry"}, "client_secret", "client_id and client_secret go together"),
        ({"client_secret": "s3cret"}, "client_id", "client_id and client_secret go together"),
        ({"issuer": "has spaces"}, "issuer", "without spaces"),
        ({"allow_http": "sometimes"}, "allow_http", ""),
        ({"signing_key": ""}, "signing_key", "must not be empty"),
        ({"unknown_option": 1}, "unknown_option", ""),
    ],
)
def test_bad_options_stop_startup_naming_the_option(make_settings, options, option, problem):
    with pytest.raises(ConfigError) as raised:
        make_settings({"plugins": {"teg_bridge": options}})
    [line] = raised.value.problems
    assert re.match(rf"plugins\.teg_bridge\.{option}[ :]", line), line
    assert problem in line


@pytest.mark.parametrize(
    "token_url", ["https://127.0.0.1/token", "https://[::1]/token", "https://10.1.2.3/token"]
)
def test_a_private_token_url_needs_allow_private(make_settings, token_url):
    settings, _ = make_settings({"plugins": {"teg_bridge": {"token_url": token_url}}})
    with pytest.raises(ConfigError, match=r"^plugins\.teg_bridge\.token_url: .*allow_private"):
        factory.token_url(settings)
    allowed, _ = make_settings(
        {"plugins": {"teg_bridge": {"token_url": token_url, "allow_private": True}}}
    )
    assert factory.token_url(allowed) == token_url


def test_production_with_a_token_url_needs_a_signing_key(make_settings):
    overrides = {**PRODUCTION, "plugins": {**PRODUCTION["plugins"]}}
    overrides["plugins"]["teg_bridge"] = {"token_url": "https://teg.example.org/oauth/token"}
    settings, _ = make_settings(overrides)
    with pytest.raises(ConfigError) as raised:
        factory.assertion_signing_key(settings)
    [line] = raised.value.problems
    assert line.startswith("plugins.teg_bridge.signing_key: required in production mode")


async def test_production_without_a_signing_key_does_not_start(make_settings):
    overrides = {**PRODUCTION, "plugins": {**PRODUCTION["plugins"]}}
    overrides["plugins"]["teg_bridge"] = {"token_url": "https://teg.example.org/oauth/token"}
    settings, pm = make_settings(overrides)
    app = create_app(settings, pm)
    runner = web.AppRunner(app)
    with pytest.raises(ConfigError, match=r"^plugins\.teg_bridge\.signing_key: required"):
        await runner.setup()
    await runner.cleanup()


def test_production_with_a_signing_key_signs_with_it(make_settings):
    pem = ed25519_pem()
    overrides = {**PRODUCTION, "plugins": {**PRODUCTION["plugins"]}}
    overrides["plugins"]["teg_bridge"] = {
        "token_url": "https://teg.example.org/oauth/token",
        "signing_key": pem,
    }
    settings, _ = make_settings(overrides)
    key = factory.assertion_signing_key(settings)
    assert key.algorithm == "EdDSA"
    assert factory.issuer(settings, "instance") == "https://registry.example.org"
