"""POST /api/v1/auth/logout: this session by default, every session with {"everywhere": true}."""

from __future__ import annotations

import pytest
from auth_helpers import PASSWORD, bearer, register

LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"


async def log_in(client) -> dict:
    response = await client.post(
        "/api/v1/auth/login", json={"username": "ada", "password": PASSWORD}
    )
    assert response.status == 200, await response.text()
    return await response.json()


@pytest.fixture
async def two_sessions(accounts_client) -> tuple[dict, dict]:
    await register(accounts_client)
    return await log_in(accounts_client), await log_in(accounts_client)


async def refresh_status(client, pair: dict) -> int:
    response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    return response.status


async def test_everywhere_ends_every_session_of_the_account(accounts_client, two_sessions):
    this, other = two_sessions
    response = await accounts_client.post(
        LOGOUT, json={"everywhere": True}, headers=bearer(this["access_token"])
    )
    assert response.status == 204, await response.text()
    for pair in (this, other):
        assert (await accounts_client.get(ME, headers=bearer(pair["access_token"]))).status == 401
        assert await refresh_status(accounts_client, pair) == 401
    assert (await log_in(accounts_client))["access_token"]


@pytest.mark.parametrize(
    "request_body",
    [
        {},
        {"data": b"", "headers": {"Content-Type": "application/json"}},
        {"json": {"everywhere": False}},
        {"json": {}},
    ],
    ids=["no-body", "empty-json-body", "everywhere-false", "empty-object"],
)
async def test_otherwise_only_this_session_ends(accounts_client, two_sessions, request_body):
    this, other = two_sessions
    headers = bearer(this["access_token"]) | request_body.pop("headers", {})
    response = await accounts_client.post(LOGOUT, headers=headers, **request_body)
    assert response.status == 204, await response.text()
    assert (await accounts_client.get(ME, headers=bearer(this["access_token"]))).status == 401
    assert await refresh_status(accounts_client, this) == 401
    assert (await accounts_client.get(ME, headers=bearer(other["access_token"]))).status == 200
    assert await refresh_status(accounts_client, other) == 200


async def test_a_malformed_body_is_400_and_ends_nothing(accounts_client, two_sessions):
    this, _ = two_sessions
    response = await accounts_client.post(
        LOGOUT,
        data=b'{"everywhere": tru',
        headers=bearer(this["access_token"]) | {"Content-Type": "application/json"},
    )
    assert response.status == 400
    assert (await response.json())["error"] == "malformed_json"
    assert (await accounts_client.get(ME, headers=bearer(this["access_token"]))).status == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"everywhere": "yes"}, "everywhere"),
        ({"everywhere": 1}, "everywhere"),
        ({"everywhere": True, "device": "phone"}, "device"),
        ([True], "_schema"),
    ],
    ids=["string", "number", "unknown-field", "array"],
)
async def test_a_bad_body_is_422_and_ends_nothing(accounts_client, two_sessions, body, field):
    this, other = two_sessions
    response = await accounts_client.post(LOGOUT, json=body, headers=bearer(this["access_token"]))
    assert response.status == 422
    assert field in (await response.json())["details"]
    for pair in (this, other):
        assert (await accounts_client.get(ME, headers=bearer(pair["access_token"]))).status == 200


async def test_anonymous_logout_is_401(accounts_client):
    response = await accounts_client.post(LOGOUT, json={"everywhere": True})
    assert response.status == 401
    assert (await response.json())["error"] == "authentication_required"


async def test_openapi_shows_the_logout_body_as_optional(accounts_client):
    spec = await (await accounts_client.get("/api/v1/openapi.json")).json()
    logout = spec["paths"][LOGOUT]["post"]
    assert logout["requestBody"]["required"] is False
    assert "Logout" in spec["components"]["schemas"]
    assert {"204", "400", "401", "403", "422"} <= set(logout["responses"])
