"""Agents registering themselves with a bootstrap token, and what their own key may do."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from onboarding_helpers import (
    REGISTRATION,
    agent_key,
    app_overrides,
    developer,
    mint,
    redeem,
)

from agentvault_registry.core.appkeys import RATE_LIMITER
from agentvault_registry.plugins.auth.appkeys import AUTH_SERVICE
from agentvault_registry.plugins.onboarding.appkeys import ONBOARDING_SERVICE
from sample_cards import V1_CARD

REGISTER = "/api/v1/onboard/register"
TOKENS = "/api/v1/onboard/bootstrap/tokens"


async def whoami(client, headers) -> str:
    return (await (await client.get("/api/v1/auth/me", headers=headers)).json())["id"]


async def test_an_agent_registers_itself_and_gets_its_own_credentials(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "ada")
    token = await mint(client, headers)
    response = await redeem(client, token["bootstrap_token"], {"card": V1_CARD})
    assert response.status == 201, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    agent, credentials = body["agent"], body["credentials"]
    assert response.headers["Location"] == f"/api/v1/agents/{agent['id']}"
    # The ETag lets the agent update itself with If-Match straight away.
    patched = await client.patch(
        f"/api/v1/agents/{agent['id']}",
        json={"tags": ["fresh"]},
        headers={"X-API-Key": body["credentials"]["api_key"], "If-Match": response.headers["ETag"]},
    )
    assert patched.status == 200, await patched.text()
    assert agent["name"] == V1_CARD["name"]
    assert agent["cardSource"] == "stored"
    assert agent["developerId"] == await whoami(client, headers)
    assert credentials["agent_id"] == agent["id"]
    assert credentials["did"] == agent["did"] == f"did:agentvault:{agent['id']}"
    assert credentials["api_key"].startswith("avk_")

    card = await client.get(f"/api/v1/agents/{agent['id']}/card")
    assert (await card.json())["name"] == V1_CARD["name"]
    mine = await (
        await client.get("/api/v1/agents", params={"owner": "me"}, headers=headers)
    ).json()
    assert [listed["id"] for listed in mine["agents"]] == [agent["id"]]


async def test_the_creation_is_in_the_change_feed_with_the_agent_as_actor(onboarding_client):
    client = onboarding_client
    token = await mint(client, await developer(client, "ada"))
    agent = (await (await redeem(client, token["bootstrap_token"])).json())["agent"]
    changes = (await (await client.get("/api/v1/agents/changes")).json())["changes"]
    [created] = [change for change in changes if change["agentId"] == agent["id"]]
    assert created["type"] == "created"
    assert created["actorId"] == agent["id"]


async def test_the_token_may_come_in_the_body(onboarding_client):
    client = onboarding_client
    token = await mint(client, await developer(client, "ada"))
    response = await client.post(
        REGISTER, json=REGISTRATION | {"bootstrap_token": token["bootstrap_token"]}
    )
    assert response.status == 201, await response.text()


async def test_a_null_body_token_beside_the_header_is_no_token(onboarding_client):
    client = onboarding_client
    token = await mint(client, await developer(client, "ada"))
    response = await client.post(
        REGISTER,
        json=REGISTRATION | {"bootstrap_token": None},
        headers={"Bootstrap-Token": token["bootstrap_token"]},
    )
    assert response.status == 201, await response.text()


async def test_a_token_with_anything_after_it_is_malformed(onboarding_client):
    client = onboarding_client
    token = await mint(client, await developer(client, "ada"))
    response = await client.post(
        REGISTER, json=REGISTRATION | {"bootstrap_token": token["bootstrap_token"] + "\n"}
    )
    assert response.status == 401
    assert (await response.json())["details"]["reason"] == "malformed"


async def test_a_header_and_a_body_token_that_differ_are_400(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "ada")
    first, second = await mint(client, headers), await mint(client, headers)
    response = await client.post(
        REGISTER,
        json=REGISTRATION | {"bootstrap_token": second["bootstrap_token"]},
        headers={"Bootstrap-Token": first["bootstrap_token"]},
    )
    assert response.status == 400
    assert (await redeem(client, first["bootstrap_token"])).status == 201


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing"),
        ({"Bootstrap-Token": "BST_short"}, "malformed"),
        ({"Bootstrap-Token": "avk_" + "a" * 32}, "malformed"),
        ({"Bootstrap-Token": "BST_" + "!" * 32}, "malformed"),
        ({"Bootstrap-Token": "BST_" + "A" * 32}, "unknown"),
    ],
)
async def test_missing_malformed_and_unknown_tokens_are_401(onboarding_client, headers, reason):
    response = await onboarding_client.post(REGISTER, json=REGISTRATION, headers=headers)
    assert response.status == 401
    body = await response.json()
    assert body["error"] == "invalid_credentials"
    assert body["details"]["reason"] == reason


async def test_a_token_in_the_body_of_the_wrong_type_is_401(onboarding_client):
    response = await onboarding_client.post(REGISTER, json=REGISTRATION | {"bootstrap_token": 42})
    assert response.status == 401


async def test_an_invalid_registration_is_422_and_leaves_the_token_usable(onboarding_client):
    client = onboarding_client
    token = await mint(client, await developer(client, "ada"))
    for bad in (
        {"name": "No endpoints"},
        {**REGISTRATION, "apiEndpoints": "https://not-a-list.example.com"},
        {**REGISTRATION, "developerId": "someone-else"},
        {**REGISTRATION, "unknown": True},
        {"card": {"name": "Not a card"}},
    ):
        response = await redeem(client, token["bootstrap_token"], bad)
        assert response.status == 422, (bad, await response.text())
        assert (await response.json())["error"] in {"validation_failed", "invalid_agent_card"}
    not_an_object = await client.post(
        REGISTER, json=[REGISTRATION], headers={"Bootstrap-Token": token["bootstrap_token"]}
    )
    assert not_an_object.status == 422
    malformed = await client.post(
        REGISTER,
        data=b'{"name": ',
        headers={"Bootstrap-Token": token["bootstrap_token"], "Content-Type": "application/json"},
    )
    assert malformed.status == 400
    assert (await redeem(client, token["bootstrap_token"])).status == 201


async def test_a_taken_slug_is_409_and_leaves_the_token_usable(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "ada")
    first, second = await mint(client, headers), await mint(client, headers)
    assert (
        await redeem(client, first["bootstrap_token"], REGISTRATION | {"humanReadableId": "taken"})
    ).status == 201
    clash = await redeem(
        client, second["bootstrap_token"], REGISTRATION | {"humanReadableId": "taken"}
    )
    assert clash.status == 409
    assert (await clash.json())["details"]["field"] == "human_readable_id"
    assert (await redeem(client, second["bootstrap_token"])).status == 201


async def test_a_token_works_once(onboarding_client):
    client = onboarding_client
    token = await mint(client, await developer(client, "ada"))
    assert (await redeem(client, token["bootstrap_token"])).status == 201
    again = await redeem(client, token["bootstrap_token"])
    assert again.status == 409
    assert (await again.json())["error"] == "bootstrap_token_consumed"


async def test_a_token_used_after_its_expiry_is_401(onboarding_client):
    client = onboarding_client
    service = client.app[ONBOARDING_SERVICE]
    token = await mint(client, await developer(client, "ada"))
    expires_at = dt.datetime.fromisoformat(token["expires_at"])
    service.clock = lambda: expires_at + dt.timedelta(seconds=1)
    response = await redeem(client, token["bootstrap_token"])
    assert response.status == 401
    assert (await response.json())["details"]["reason"] == "expired"
    # The instant it expires counts as expired too; a second before, it still works.
    service.clock = lambda: expires_at
    assert (await redeem(client, token["bootstrap_token"])).status == 401
    service.clock = lambda: expires_at - dt.timedelta(seconds=1)
    assert (await redeem(client, token["bootstrap_token"])).status == 201


async def test_an_expired_token_is_listed_as_expired(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "ada")
    token = await mint(client, headers)
    expires_at = dt.datetime.fromisoformat(token["expires_at"])
    client.app[ONBOARDING_SERVICE].clock = lambda: expires_at + dt.timedelta(seconds=1)
    [listed] = (await (await client.get(TOKENS, headers=headers)).json())["tokens"]
    assert listed["status"] == "expired"


async def test_a_token_of_a_deactivated_developer_is_401(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "ada")
    token = await mint(client, headers)
    await client.app[AUTH_SERVICE].deactivate(await whoami(client, headers))
    assert (await redeem(client, token["bootstrap_token"])).status == 401


async def test_bad_tokens_are_rate_limited_per_client(aiohttp_client, make_app, records_overrides):
    overrides = app_overrides(storage=records_overrides)
    overrides["rate_limits"]["onboard.register_failures"] = "3/minute"
    client = await aiohttp_client(make_app(overrides))
    # Mid-minute, however long the requests take: all of them fall in one fixed window.
    client.app[RATE_LIMITER].clock = lambda: 1_800_000_030.0
    token = await mint(client, await developer(client, "ada"))
    # Good registrations do not count.
    assert (await redeem(client, token["bootstrap_token"])).status == 201
    assert (await redeem(client, token["bootstrap_token"])).status == 409
    statuses = [(await redeem(client, "BST_" + "B" * 32)).status for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    blocked = await redeem(
        client, (await mint(client, await developer(client, "bob")))["bootstrap_token"]
    )
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) >= 1


# --------------------------------------------------------------- the agent's own key


async def self_registered(client, headers):
    token = await mint(client, headers)
    body = await (await redeem(client, token["bootstrap_token"])).json()
    return body["agent"], agent_key(body["credentials"]["api_key"])


async def test_the_agent_key_reads_and_updates_its_own_agent(onboarding_client):
    client = onboarding_client
    agent, key = await self_registered(client, await developer(client, "ada"))
    path = f"/api/v1/agents/{agent['id']}"
    assert (await client.get(path, headers=key)).status == 200
    patched = await client.patch(path, json={"description": "Updated by itself."}, headers=key)
    assert patched.status == 200, await patched.text()
    assert (await patched.json())["description"] == "Updated by itself."
    replaced = await client.put(path, json=REGISTRATION | {"name": "Renamed"}, headers=key)
    assert replaced.status == 200, await replaced.text()
    assert (await replaced.json())["name"] == "Renamed"
    bad = await client.patch(path, json={"description": 5}, headers=key)
    assert bad.status == 422


async def test_the_agent_key_is_refused_for_a_sibling_and_for_its_developers_things(
    onboarding_client,
):
    client = onboarding_client
    headers = await developer(client, "ada")
    agent, key = await self_registered(client, headers)
    sibling, _ = await self_registered(client, headers)
    sibling_path = f"/api/v1/agents/{sibling['id']}"
    refused = await client.patch(sibling_path, json={"description": "Hijacked."}, headers=key)
    assert refused.status == 403
    assert (await client.put(sibling_path, json=REGISTRATION, headers=key)).status == 403
    unchanged = await (await client.get(sibling_path)).json()
    assert unchanged["description"] == REGISTRATION["description"]

    own = f"/api/v1/agents/{agent['id']}"
    for method, path, body in (
        ("DELETE", own, None),
        ("DELETE", sibling_path, None),
        ("POST", f"{own}/verify", None),
        ("POST", "/api/v1/agents", REGISTRATION),
        ("GET", "/api/v1/agents?owner=me", None),
        ("GET", "/api/v1/auth/me", None),
        ("GET", "/api/v1/auth/api-keys", None),
        ("POST", "/api/v1/auth/api-keys", {"name": "escalate", "scopes": ["agents:write"]}),
        ("GET", TOKENS, None),
        ("POST", "/api/v1/onboard/bootstrap/request-token", {}),
    ):
        response = await client.request(method, path, json=body, headers=key)
        assert response.status == 403, (method, path, response.status)
    assert (await client.get(own)).status == 200


async def test_the_developer_sees_and_revokes_the_agent_key(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "ada")
    agent, key = await self_registered(client, headers)
    keys = (await (await client.get("/api/v1/auth/api-keys", headers=headers)).json())["api_keys"]
    [listed] = [item for item in keys if item["agent_id"] == agent["id"]]
    assert listed["scopes"] == ["agents:self"]
    revoked = await client.delete(f"/api/v1/auth/api-keys/{listed['id']}", headers=headers)
    assert revoked.status == 204
    response = await client.patch(
        f"/api/v1/agents/{agent['id']}", json={"tags": ["x"]}, headers=key
    )
    assert response.status == 401


async def test_the_agent_key_ends_with_the_agent(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "ada")
    agent, key = await self_registered(client, headers)
    assert (await client.delete(f"/api/v1/agents/{agent['id']}", headers=headers)).status == 204
    response = await client.get("/api/v1/auth/me", headers=key)
    assert response.status == 401


async def test_a_developer_cannot_mint_a_key_with_the_agent_scope(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "ada")
    response = await client.post(
        "/api/v1/auth/api-keys", json={"name": "self", "scopes": ["agents:self"]}, headers=headers
    )
    assert response.status in (403, 422)


# ---------------------------------------------------------------------- secrets


async def test_no_token_or_key_appears_in_lists_or_logs(onboarding_client, caplog):
    client = onboarding_client
    caplog.set_level(logging.DEBUG)
    headers = await developer(client, "ada")
    token = await mint(client, headers, metadata={"note": "for the crawler"})
    consumed = await mint(client, headers)
    body = await (await redeem(client, consumed["bootstrap_token"], {"card": V1_CARD})).json()
    api_key = body["credentials"]["api_key"]
    await redeem(client, consumed["bootstrap_token"])
    await redeem(client, "BST_" + "Z" * 32)
    await client.patch(
        f"/api/v1/agents/{body['agent']['id']}", json={"tags": ["a"]}, headers=agent_key(api_key)
    )
    secrets = [token["bootstrap_token"], consumed["bootstrap_token"], api_key]

    listings = [
        await (await client.get(TOKENS, headers=headers)).text(),
        await (await client.get("/api/v1/auth/api-keys", headers=headers)).text(),
        await (await client.get(f"/api/v1/agents/{body['agent']['id']}")).text(),
        await (await client.get("/api/v1/agents/changes")).text(),
    ]
    assert caplog.records, "the flow logged nothing: the check would prove nothing"
    for secret in secrets:
        for listing in listings:
            assert secret not in listing
            assert secret[4:] not in listing
        assert secret not in caplog.text
        assert secret[4:] not in caplog.text


async def test_openapi_documents_onboarding(onboarding_client):
    spec = await (await onboarding_client.get("/api/v1/openapi.json")).json()
    register = spec["paths"][REGISTER]["post"]
    assert {"201", "401", "409", "422", "429"} <= set(register["responses"])
    assert any(
        parameter.get("in") == "header" and parameter.get("name") == "Bootstrap-Token"
        for parameter in register["parameters"]
    )
    request = spec["paths"]["/api/v1/onboard/bootstrap/request-token"]["post"]
    assert {"201", "401", "403", "422", "429"} <= set(request["responses"])
    assert {"get"} <= set(spec["paths"][TOKENS])
    assert "delete" in spec["paths"][f"{TOKENS}/{{token_id}}"]
