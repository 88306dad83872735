"""An agent gets a TEG token: the registry signs an assertion for it, which the TEG checks
against the registry's JWK Set, and exchanges it with the JWT-bearer grant."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from teg_helpers import JWKS, PRICING, WALLET, Clock, ask_token, onboarded_agent

from agentvault_registry.plugins.teg_bridge.appkeys import TEG_SERVICE


async def test_an_agent_gets_a_token_for_every_configured_scope(bridged_registry, fake_teg):
    client = await bridged_registry()
    agent = await onboarded_agent(client)
    # A clock that stands still: the whole lifetime is left when the answer is written.
    client.app[TEG_SERVICE].clock = Clock()
    response = await ask_token(client, agent)
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body == {
        "access_token": "teg-access-1",
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "agent:economics agent:reputation",
    }
    [call] = fake_teg.issued
    assert call.form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert call.form["scope"] == "agent:economics agent:reputation"
    assert "Authorization" not in call.headers
    assert "teg_wallet_address" not in call.form and "pricing" not in call.form


async def test_the_assertion_names_the_agent_to_the_teg_for_a_short_while(
    bridged_registry, fake_teg
):
    client = await bridged_registry({"assertion_ttl": 45})
    agent = await onboarded_agent(client)
    assert (await ask_token(client, agent)).status == 200
    [call] = fake_teg.issued
    claims = call.claims
    ready = await (await client.get("/ready")).json()
    # No public URL in development mode: the issuer names this registry's instance.
    assert claims["iss"] == f"urn:agentvault:registry:{ready['instance_id']}"
    assert claims["sub"] == agent.did
    assert claims["aud"] == fake_teg.url
    assert claims["exp"] - claims["iat"] == 45
    assert claims["nbf"] == claims["iat"]
    assert len(claims["jti"]) >= 22  # 128 bits, base64url
    assert call.assertion_header["alg"] == "EdDSA"
    published = (await (await client.get(JWKS)).json())["keys"]
    assert call.assertion_header["kid"] in {key["kid"] for key in published}


async def test_the_issuer_is_the_public_url_or_the_configured_one(bridged_registry, fake_teg):
    client = await bridged_registry(server={"public_url": "https://registry.example.org/"})
    agent = await onboarded_agent(client)
    assert (await ask_token(client, agent)).status == 200
    assert fake_teg.issued[-1].claims["iss"] == "https://registry.example.org"


async def test_a_configured_issuer_wins(bridged_registry, fake_teg):
    client = await bridged_registry(
        {"issuer": "urn:example:registry"}, server={"public_url": "https://r.example.org"}
    )
    agent = await onboarded_agent(client)
    assert (await ask_token(client, agent)).status == 200
    assert fake_teg.issued[-1].claims["iss"] == "urn:example:registry"


async def test_wallet_and_pricing_go_to_the_teg_in_the_form_and_the_assertion(
    bridged_registry, fake_teg
):
    client = await bridged_registry()
    agent = await onboarded_agent(client, tegWalletAddress=WALLET, pricing=PRICING)
    assert (await ask_token(client, agent)).status == 200
    [call] = fake_teg.issued
    assert call.form["teg_wallet_address"] == WALLET
    assert json.loads(call.form["pricing"]) == PRICING
    assert " " not in call.form["pricing"]  # compact JSON
    assert call.claims["teg_wallet_address"] == WALLET
    assert call.claims["pricing"] == PRICING


async def test_an_agent_may_ask_for_fewer_scopes(bridged_registry, fake_teg):
    client = await bridged_registry()
    agent = await onboarded_agent(client)
    response = await ask_token(client, agent, {"scope": "agent:reputation"})
    assert response.status == 200, await response.text()
    assert (await response.json())["scope"] == "agent:reputation"
    assert fake_teg.issued[-1].form["scope"] == "agent:reputation"


async def test_a_scope_comes_in_the_configured_order_without_repeats(bridged_registry, fake_teg):
    client = await bridged_registry()
    agent = await onboarded_agent(client)
    asked = {"scope": "agent:reputation agent:economics agent:reputation"}
    response = await ask_token(client, agent, asked)
    assert response.status == 200, await response.text()
    assert fake_teg.issued[-1].form["scope"] == "agent:economics agent:reputation"


async def test_a_configured_scope_is_what_agents_get(bridged_registry, fake_teg):
    client = await bridged_registry({"scope": "agent:economics"})
    agent = await onboarded_agent(client)
    response = await ask_token(client, agent)
    assert (await response.json())["scope"] == "agent:economics"
    refused = await ask_token(client, agent, {"scope": "agent:reputation"})
    assert refused.status == 422
    assert "scope" in (await refused.json())["details"]


async def test_the_registry_authenticates_to_the_teg_as_a_client_when_configured(
    bridged_registry, fake_teg
):
    fake_teg.client_id, fake_teg.client_secret = "agentvault registry", "s3cr:et/+%="
    client = await bridged_registry(
        {"client_id": "agentvault registry", "client_secret": "s3cr:et/+%="}
    )
    agent = await onboarded_agent(client)
    response = await ask_token(client, agent)
    assert response.status == 200, await response.text()
    assert fake_teg.issued[-1].headers["Authorization"].startswith("Basic ")


async def test_wrong_client_credentials_are_the_tegs_refusal(bridged_registry, fake_teg):
    fake_teg.client_id, fake_teg.client_secret = "agentvault", "right"
    client = await bridged_registry({"client_id": "agentvault", "client_secret": "wrong"})
    agent = await onboarded_agent(client)
    response = await ask_token(client, agent)
    assert response.status == 502
    body = await response.json()
    assert body["error"] == "teg_refused"
    assert body["details"] == {
        "status": 401,
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }


async def test_every_assertion_is_new_so_the_teg_never_sees_a_replay(bridged_registry, fake_teg):
    client = await bridged_registry()
    agent = await onboarded_agent(client)
    for scope in ("agent:economics", "agent:reputation", "agent:economics agent:reputation"):
        assert (await ask_token(client, agent, {"scope": scope})).status == 200
    assert len({call.claims["jti"] for call in fake_teg.issued}) == 3


async def test_the_fake_teg_refuses_a_replayed_assertion(bridged_registry, fake_teg):
    client = await bridged_registry()
    agent = await onboarded_agent(client)
    assert (await ask_token(client, agent)).status == 200
    replayed = await client.session.post(fake_teg.url, data=fake_teg.issued[0].form)
    assert replayed.status == 400
    assert (await replayed.json())["error"] == "invalid_grant"
    replayed.release()


async def test_no_token_assertion_or_secret_reaches_the_logs(bridged_registry, fake_teg, caplog):
    caplog.set_level(logging.DEBUG)
    fake_teg.client_id, fake_teg.client_secret = "agentvault", "client-secret-value"
    client = await bridged_registry({"client_id": "agentvault", "client_secret": "wrong-secret"})
    agent = await onboarded_agent(client)
    assert (await ask_token(client, agent)).status == 502  # the TEG refused our credentials
    fake_teg.client_secret = "wrong-secret"
    issued = await (await ask_token(client, agent, {"scope": "agent:economics"})).json()
    fake_teg.behaviour = _failing
    assert (await ask_token(client, agent, {"scope": "agent:reputation"})).status == 503
    logged = caplog.text
    assert issued["access_token"] not in logged
    assert "wrong-secret" not in logged
    for call in fake_teg.calls:
        assert call.form["assertion"] not in logged
        assert call.form["assertion"].split(".")[1] not in logged  # not even its claims


async def _failing(request):
    return web.Response(status=500, text="boom")
