"""API keys: minted within the owner's role, shown once, usable two ways, revocable one by one."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from auth_helpers import bearer, register, signed_up

from agentvault_registry.plugins.auth.appkeys import AUTH_SERVICE
from agentvault_registry.plugins.auth.credentials import identify

KEYS = "/api/v1/auth/api-keys"


async def mint(client, token, name="ci", scopes=("agents:read",), **extra):
    response = await client.post(
        KEYS, json={"name": name, "scopes": list(scopes), **extra}, headers=bearer(token)
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def test_a_minted_key_is_shown_once_and_listed_without_it(auth_client):
    pair = await signed_up(auth_client)
    created = await mint(auth_client, pair["access_token"])
    assert created["key"].startswith("avk_") and len(created["key"]) >= 4 + 43
    assert created["prefix"] == created["key"][:10]
    listed = await (await auth_client.get(KEYS, headers=bearer(pair["access_token"]))).json()
    assert [key["id"] for key in listed["api_keys"]] == [created["id"]]
    assert "key" not in listed["api_keys"][0]
    assert created["key"] not in str(listed)


@pytest.mark.parametrize("header", ["X-API-Key", "Authorization"])
async def test_a_key_authenticates_in_either_header(auth_client, header):
    pair = await signed_up(auth_client)
    key = (await mint(auth_client, pair["access_token"]))["key"]
    value = key if header == "X-API-Key" else f"Bearer {key}"
    response = await auth_client.get("/api/v1/auth/me", headers={header: value})
    assert response.status == 200
    assert (await response.json())["username"] == "ada"


async def test_revoking_one_key_leaves_the_others_working(auth_client):
    pair = await signed_up(auth_client)
    first = await mint(auth_client, pair["access_token"], "first")
    second = await mint(auth_client, pair["access_token"], "second")
    response = await auth_client.delete(
        f"{KEYS}/{first['id']}", headers=bearer(pair["access_token"])
    )
    assert response.status == 204
    assert (
        await auth_client.get("/api/v1/auth/me", headers={"X-API-Key": first["key"]})
    ).status == 401
    assert (
        await auth_client.get("/api/v1/auth/me", headers={"X-API-Key": second["key"]})
    ).status == 200


async def test_someone_elses_key_cannot_be_revoked_or_seen(auth_client):
    ada = await signed_up(auth_client, "ada")
    grace = await signed_up(auth_client, "grace")
    adas_key = await mint(auth_client, ada["access_token"])
    response = await auth_client.delete(
        f"{KEYS}/{adas_key['id']}", headers=bearer(grace["access_token"])
    )
    assert response.status == 404
    graces = await (await auth_client.get(KEYS, headers=bearer(grace["access_token"]))).json()
    assert graces == {"api_keys": []}
    assert (
        await auth_client.get("/api/v1/auth/me", headers={"X-API-Key": adas_key["key"]})
    ).status == 200


async def test_a_key_cannot_exceed_its_owners_role(auth_client):
    pair = await signed_up(auth_client)
    response = await auth_client.post(
        KEYS,
        json={"name": "too much", "scopes": ["agents:read", "admin"]},
        headers=bearer(pair["access_token"]),
    )
    assert response.status == 403
    assert (await response.json())["details"] == {"scopes": ["admin"]}


async def test_a_key_loses_scopes_its_owner_loses(auth_client):
    user = await register(auth_client)
    service = auth_client.app[AUTH_SERVICE]
    await service.set_role(user["id"], "admin")
    admin_pair = await (
        await auth_client.post(
            "/api/v1/auth/login",
            json={"username": "ada", "password": "correct horse battery staple 42"},
        )
    ).json()
    key = await mint(auth_client, admin_pair["access_token"], scopes=["admin", "agents:read"])
    await service.set_role(user["id"], "developer")
    identity = await identify(auth_client.app, key["key"])
    assert identity.scopes == frozenset({"agents:read"})


async def test_an_expired_key_is_refused(auth_client):
    pair = await signed_up(auth_client)
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).isoformat()
    key = await mint(auth_client, pair["access_token"], expires_at=soon)
    assert (
        await auth_client.get("/api/v1/auth/me", headers={"X-API-Key": key["key"]})
    ).status == 200
    await asyncio.sleep(1.2)
    assert (
        await auth_client.get("/api/v1/auth/me", headers={"X-API-Key": key["key"]})
    ).status == 401


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["agents:fly"]},
        {"name": "", "scopes": ["agents:read"]},
        {"name": "x", "scopes": "agents:read"},
        {"name": "x", "scopes": ["agents:read"], "expires_at": "2001-01-01T00:00:00+00:00"},
        {"name": "x", "scopes": ["agents:read"], "expires_at": "tomorrow"},
        {"name": "x", "scopes": ["agents:read"], "owner": "someone"},
        {"name": "x", "scopes": ["agents:read"], "expires_at": "9999-12-31T23:59:59-05:00"},
        {"name": "nul\u0000name", "scopes": ["agents:read"]},
    ],
)
async def test_malformed_key_requests_are_422(auth_client, body):
    pair = await signed_up(auth_client)
    assert (
        await auth_client.post(KEYS, json=body, headers=bearer(pair["access_token"]))
    ).status == 422


async def test_keys_cannot_manage_keys(auth_client):
    pair = await signed_up(auth_client)
    key = (await mint(auth_client, pair["access_token"], scopes=["agents:read", "agents:write"]))[
        "key"
    ]
    response = await auth_client.post(
        KEYS, json={"name": "child", "scopes": ["agents:read"]}, headers={"X-API-Key": key}
    )
    assert response.status == 403


async def test_an_x_api_key_that_is_not_a_key_is_401(auth_client):
    response = await auth_client.get("/api/v1/auth/me", headers={"X-API-Key": "hunter2"})
    assert response.status == 401


async def test_key_management_needs_credentials(auth_client):
    assert (await auth_client.get(KEYS)).status == 401
    assert (
        await auth_client.post(KEYS, json={"name": "x", "scopes": ["agents:read"]})
    ).status == 401
    assert (await auth_client.delete(f"{KEYS}/anything")).status == 401


async def test_last_used_is_recorded(auth_client):
    pair = await signed_up(auth_client)
    key = await mint(auth_client, pair["access_token"])
    assert key["last_used_at"] is None
    await auth_client.get("/api/v1/auth/me", headers={"X-API-Key": key["key"]})
    listed = await (await auth_client.get(KEYS, headers=bearer(pair["access_token"]))).json()
    assert listed["api_keys"][0]["last_used_at"] is not None
