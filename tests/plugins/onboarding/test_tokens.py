"""Minting, listing and revoking bootstrap tokens through the HTTP API."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json

import pytest
from onboarding_helpers import (
    REGISTRATION,
    TOKEN_FORMAT,
    app_overrides,
    developer,
    mint,
    redeem,
)

from agentvault_registry.core.appkeys import RATE_LIMITER
from agentvault_registry.plugins.auth.appkeys import AUTH_SERVICE
from support import PASSWORD

REQUEST = "/api/v1/onboard/bootstrap/request-token"
MID_MINUTE = 1_800_000_030.0
TOKENS = "/api/v1/onboard/bootstrap/tokens"


async def test_a_verified_developer_mints_a_token_shown_once(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "ada")
    before = dt.datetime.now(dt.UTC)
    response = await client.post(
        REQUEST, json={"agent_type_hint": "a2a", "metadata": {"team": "search"}}, headers=headers
    )
    assert response.status == 201, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    issued = await response.json()
    assert set(issued) == {"id", "bootstrap_token", "expires_at", "expires_in"}
    assert TOKEN_FORMAT.match(issued["bootstrap_token"])
    assert issued["expires_in"] == 300
    expires_at = dt.datetime.fromisoformat(issued["expires_at"])
    assert before + dt.timedelta(seconds=299) <= expires_at <= before + dt.timedelta(seconds=302)

    listed = await client.get(TOKENS, headers=headers)
    assert listed.status == 200
    text = await listed.text()
    assert issued["bootstrap_token"] not in text
    assert issued["bootstrap_token"][4:] not in text
    body = await listed.json()
    assert body["pagination"]["total"] == 1
    [token] = body["tokens"]
    assert token["id"] == issued["id"]
    assert token["status"] == "active"
    assert token["agent_type_hint"] == "a2a"
    assert token["metadata"] == {"team": "search"}
    assert token["consumed_by_agent_id"] is None
    assert "bootstrap_token" not in token and "digest" not in token


async def test_every_token_is_different(onboarding_client):
    headers = await developer(onboarding_client, "ada")
    tokens = {(await mint(onboarding_client, headers))["bootstrap_token"] for _ in range(5)}
    assert len(tokens) == 5


async def test_an_unverified_developer_may_not_mint(onboarding_client):
    headers = await developer(onboarding_client, "ada", verified=False)
    response = await onboarding_client.post(REQUEST, json={}, headers=headers)
    assert response.status == 403
    assert (await response.json())["error"] == "email_not_verified"


async def test_minting_needs_credentials_with_the_onboarding_scope(onboarding_client):
    client = onboarding_client
    assert (await client.post(REQUEST, json={})).status == 401
    headers = await developer(client, "ada")
    keys = {}
    for scopes in (["onboard:tokens"], ["agents:read"]):
        response = await client.post(
            "/api/v1/auth/api-keys", json={"name": scopes[0], "scopes": scopes}, headers=headers
        )
        assert response.status == 201, await response.text()
        keys[scopes[0]] = (await response.json())["key"]
    allowed = await client.post(REQUEST, json={}, headers={"X-API-Key": keys["onboard:tokens"]})
    assert allowed.status == 201
    refused = await client.post(REQUEST, json={}, headers={"X-API-Key": keys["agents:read"]})
    assert refused.status == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expires_in": 3601}, "expires_in"),
        ({"expires_in": 5}, "expires_in"),
        ({"expires_in": 10**20}, "expires_in"),
        ({"expires_in": "60"}, "expires_in"),
        ({"expires_in": 60.5}, "expires_in"),
        ({"expires_in": True}, "expires_in"),
        ({"agent_type_hint": ""}, "agent_type_hint"),
        ({"agent_type_hint": 7}, "agent_type_hint"),
        ({"metadata": ["not", "an", "object"]}, "metadata"),
        ({"metadata": {"big": "x" * 5000}}, "metadata"),
        ({"metadata": {"nul": "a\u0000b"}}, "metadata"),
        ({"bootstrap_token": "BST_mine"}, "bootstrap_token"),
    ],
)
async def test_bad_token_requests_are_refused_field_by_field(onboarding_client, body, field):
    headers = await developer(onboarding_client, "ada")
    response = await onboarding_client.post(REQUEST, json=body, headers=headers)
    assert response.status == 422, await response.text()
    assert field in (await response.json())["details"]
    listed = await (await onboarding_client.get(TOKENS, headers=headers)).json()
    assert listed["tokens"] == []


async def test_malformed_and_oversized_bodies(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "ada")
    malformed = await client.post(
        REQUEST, data=b"{not json", headers=headers | {"Content-Type": "application/json"}
    )
    assert malformed.status == 400
    assert (await malformed.json())["error"] == "malformed_json"
    oversized = await client.post(
        REQUEST,
        data=io.BytesIO(b'{"metadata": {"x": "' + b"y" * 2_000_000 + b'"}}'),
        headers=headers | {"Content-Type": "application/json"},
    )
    assert oversized.status == 413
    not_an_object = await client.post(REQUEST, json=[1, 2], headers=headers)
    assert not_an_object.status == 422


async def test_a_custom_lifetime_within_the_configured_maximum(
    aiohttp_client, make_app, records_overrides
):
    overrides = app_overrides(
        storage=records_overrides, plugins={"onboarding": {"token_ttl": 120, "max_token_ttl": 600}}
    )
    client = await aiohttp_client(make_app(overrides))
    headers = await developer(client, "ada")
    assert (await mint(client, headers))["expires_in"] == 120
    assert (await mint(client, headers, expires_in=600))["expires_in"] == 600
    too_long = await client.post(REQUEST, json={"expires_in": 601}, headers=headers)
    assert too_long.status == 422
    assert "600" in (await too_long.json())["details"]["expires_in"][0]


async def test_the_sixth_and_seventh_token_in_a_minute_are_rate_limited(
    aiohttp_client, make_app, records_overrides
):
    overrides = app_overrides(storage=records_overrides)
    del overrides["rate_limits"]["bootstrap.request"]
    client = await aiohttp_client(make_app(overrides))
    # Mid-minute, however long the requests take: the seven fall in one fixed window.
    client.app[RATE_LIMITER].clock = lambda: MID_MINUTE
    headers = await developer(client, "ada")
    created = await client.post(
        "/api/v1/auth/api-keys", json={"name": "ci", "scopes": ["onboard:tokens"]}, headers=headers
    )
    api_key = {"X-API-Key": (await created.json())["key"]}
    # Per developer, whichever credential they use: a session and a key share the allowance.
    statuses = []
    for number in range(7):
        credentials = headers if number % 2 else api_key
        response = await client.post(REQUEST, json={}, headers=credentials)
        statuses.append(response.status)
        if response.status == 429:
            assert int(response.headers["Retry-After"]) >= 1
            assert (await response.json())["error"] == "rate_limited"
    assert statuses == [201] * 5 + [429, 429]
    listed = await (await client.get(TOKENS, headers=headers)).json()
    assert listed["pagination"]["total"] == 5
    # Another developer on the same address is not held back.
    other = await developer(client, "bob")
    assert (await client.post(REQUEST, json={}, headers=other)).status == 201


async def test_the_list_pages_newest_first_by_cursor_and_by_page(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "ada")
    minted = [(await mint(client, headers))["id"] for _ in range(5)]
    newest_first = list(reversed(minted))

    first = await (await client.get(TOKENS, params={"per_page": 2}, headers=headers)).json()
    assert [token["id"] for token in first["tokens"]] == newest_first[:2]
    assert first["pagination"] | {"next_cursor": None} == {
        "total": 5,
        "page": 1,
        "per_page": 2,
        "pages": 3,
        "next_cursor": None,
    }
    cursor = first["pagination"]["next_cursor"]
    second = await (
        await client.get(TOKENS, params={"per_page": 2, "cursor": cursor}, headers=headers)
    ).json()
    assert [token["id"] for token in second["tokens"]] == newest_first[2:4]
    third = await (
        await client.get(TOKENS, params={"per_page": 2, "page": 3}, headers=headers)
    ).json()
    assert [token["id"] for token in third["tokens"]] == newest_first[4:]
    assert third["pagination"]["next_cursor"] is None


@pytest.mark.parametrize(
    "query",
    [{"per_page": "0"}, {"per_page": "101"}, {"page": "x"}, {"unknown": "1"}],
)
async def test_bad_list_queries_are_422(onboarding_client, query):
    headers = await developer(onboarding_client, "ada")
    response = await onboarding_client.get(TOKENS, params=query, headers=headers)
    assert response.status == 422


def cursor_of(created: str, item_id: object) -> str:
    return base64.urlsafe_b64encode(json.dumps([created, item_id]).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "bm9wZQ",
        cursor_of("0001-01-01T00:00:00+05:00", "00000000-0000-0000-0000-000000000000"),
        cursor_of("9999-12-31T23:00:00-05:00", "00000000-0000-0000-0000-000000000000"),
        cursor_of("2026-01-01T00:00:00", "00000000-0000-0000-0000-000000000000"),
        cursor_of("2026-01-01T00:00:00+00:00", "\ud800"),
        cursor_of("2026-01-01T00:00:00+00:00", "\u0000"),
        cursor_of("2026-01-01T00:00:00+00:00", 7),
    ],
)
async def test_a_forged_cursor_is_400(onboarding_client, cursor):
    headers = await developer(onboarding_client, "ada")
    response = await onboarding_client.get(TOKENS, params={"cursor": cursor}, headers=headers)
    assert response.status == 400


async def test_another_developer_can_neither_list_nor_revoke_my_tokens(onboarding_client):
    client = onboarding_client
    ada = await developer(client, "ada")
    bob = await developer(client, "bob")
    token = await mint(client, ada)
    assert (await (await client.get(TOKENS, headers=bob)).json())["tokens"] == []
    refused = await client.delete(f"{TOKENS}/{token['id']}", headers=bob)
    assert refused.status == 404
    assert (await refused.json())["error"] == "not_found"
    assert (await redeem(client, token["bootstrap_token"])).status == 201


async def test_revoking_ends_a_token(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "ada")
    token = await mint(client, headers)
    response = await client.delete(f"{TOKENS}/{token['id']}", headers=headers)
    assert response.status == 204
    # Revoking twice is not an error: the token is revoked either way.
    assert (await client.delete(f"{TOKENS}/{token['id']}", headers=headers)).status == 204
    [listed] = (await (await client.get(TOKENS, headers=headers)).json())["tokens"]
    assert listed["status"] == "revoked" and listed["revoked_at"] is not None
    refused = await redeem(client, token["bootstrap_token"])
    assert refused.status == 401
    assert (await refused.json())["details"]["reason"] == "revoked"


async def test_a_used_token_cannot_be_revoked(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "ada")
    token = await mint(client, headers)
    agent = (await (await redeem(client, token["bootstrap_token"])).json())["agent"]
    response = await client.delete(f"{TOKENS}/{token['id']}", headers=headers)
    assert response.status == 409
    assert (await response.json())["details"]["consumed_by_agent_id"] == agent["id"]


async def test_an_admin_revokes_anyones_token(onboarding_client):
    client = onboarding_client
    ada = await developer(client, "ada")
    token = await mint(client, ada)
    await client.app[AUTH_SERVICE].create_account(
        "root@example.org", "root", PASSWORD, role="admin", verified=True
    )
    login = await client.post("/api/v1/auth/login", json={"username": "root", "password": PASSWORD})
    admin = {"Authorization": f"Bearer {(await login.json())['access_token']}"}
    assert (await client.delete(f"{TOKENS}/{token['id']}", headers=admin)).status == 204
    assert (await redeem(client, token["bootstrap_token"])).status == 401


@pytest.mark.parametrize(
    "token_id", ["nope", "%00", "x" * 300, "00000000-0000-0000-0000-000000000000"]
)
async def test_revoking_an_unknown_token_is_404(onboarding_client, token_id):
    headers = await developer(onboarding_client, "ada")
    response = await onboarding_client.delete(f"{TOKENS}/{token_id}", headers=headers)
    assert response.status == 404


async def test_listing_and_revoking_need_credentials(onboarding_client):
    client = onboarding_client
    assert (await client.get(TOKENS)).status == 401
    assert (await client.delete(f"{TOKENS}/00000000-0000-0000-0000-000000000000")).status == 401


async def test_a_registration_uses_the_token_hint_and_is_listed_as_consumer(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "ada")
    token = await mint(client, headers, agent_type_hint="mcp-bridge")
    response = await redeem(client, token["bootstrap_token"], REGISTRATION)
    registered = await response.json()
    assert registered["agent"]["agentType"] == "mcp-bridge"
    [listed] = (await (await client.get(TOKENS, headers=headers)).json())["tokens"]
    assert listed["status"] == "consumed"
    assert listed["consumed_by_agent_id"] == registered["agent"]["id"]
    assert listed["consumed_at"] is not None
