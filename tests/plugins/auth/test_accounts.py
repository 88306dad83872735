"""Registration, login, the account itself, password changes and recovery, including bad input."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from auth_helpers import (
    PASSWORD,
    bearer,
    login,
    mailed_token,
    register,
    signed_up,
    wait_for_mail,
)

REGISTER = "/api/v1/auth/register"


async def error_of(response, status):
    assert response.status == status, await response.text()
    return await response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "username": "ada", "password": PASSWORD}, "email"),
        ({"email": "a@example.org", "username": "a", "password": PASSWORD}, "username"),
        ({"email": "a@example.org", "username": "has space", "password": PASSWORD}, "username"),
        ({"email": "a@example.org", "username": "ada", "password": "short"}, "password"),
        ({"email": "a@example.org", "username": "ada", "password": "password1234"}, "password"),
        (
            {"email": "a@example.org", "username": "adalovelace", "password": "adalovelace-rocks"},
            "password",
        ),
        ({"email": "a@example.org", "username": "ada", "password": 123456789012345}, "password"),
        ({"email": ["a@example.org"], "username": "ada", "password": PASSWORD}, "email"),
        ({"email": "a@example.org", "password": PASSWORD}, "username"),
        (
            {"email": "a@example.org", "username": "ada", "password": PASSWORD, "role": "admin"},
            "role",
        ),
    ],
    ids=[
        "bad-email",
        "short-username",
        "space-in-username",
        "short-password",
        "common-password",
        "password-contains-username",
        "password-not-a-string",
        "email-not-a-string",
        "missing-username",
        "role-not-settable",
    ],
)
async def test_invalid_registrations_are_422_naming_the_field(auth_client, body, field):
    payload = await error_of(await auth_client.post(REGISTER, json=body), 422)
    assert field in payload["details"]


async def test_registration_never_returns_the_password_or_its_hash(auth_client):
    user = await register(auth_client)
    assert set(user) == {
        "id",
        "email",
        "username",
        "role",
        "is_active",
        "is_verified",
        "created_at",
        "updated_at",
    }
    assert user["role"] == "developer"


@pytest.mark.parametrize(
    ("second", "field"),
    [
        ({"email": "ADA@Example.org", "username": "other"}, "email"),
        ({"email": "x@example.org", "username": "ADA"}, "username"),
    ],
)
async def test_taken_email_or_username_is_409_naming_which(auth_client, second, field):
    await register(auth_client, "ada", email="ada@example.org")
    response = await auth_client.post(REGISTER, json={**second, "password": PASSWORD})
    assert (await error_of(response, 409))["details"] == {"field": field}


async def test_concurrent_registrations_of_one_name_create_one_account(auth_client):
    responses = await asyncio.gather(
        *(
            auth_client.post(
                REGISTER,
                json={"email": f"racer{i}@example.org", "username": "racer", "password": PASSWORD},
            )
            for i in range(5)
        )
    )
    assert sorted(response.status for response in responses) == [201, 409, 409, 409, 409]


async def test_malformed_and_oversized_bodies_are_refused(auth_client):
    malformed = await auth_client.post(
        REGISTER, data=b"{", headers={"Content-Type": "application/json"}
    )
    assert (await error_of(malformed, 400))["error"] == "malformed_json"
    huge = await auth_client.post(
        REGISTER,
        data=io.BytesIO(b'{"email": "' + b"a" * 2_000_000 + b'"}'),
        headers={"Content-Type": "application/json"},
    )
    assert (await error_of(huge, 413))["error"] == "payload_too_large"


async def test_login_by_email_or_username_in_any_case(auth_client):
    await register(auth_client, "ada", email="ada@example.org")
    for body in ({"email": "Ada@Example.ORG"}, {"username": "ADA"}):
        response = await auth_client.post("/api/v1/auth/login", json={**body, "password": PASSWORD})
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "body",
    [
        {"password": PASSWORD},
        {"email": "a@example.org", "username": "ada", "password": PASSWORD},
        {"username": "ada"},
        {"username": "ada", "password": ""},
        {"username": ["ada"], "password": PASSWORD},
    ],
)
async def test_malformed_logins_are_422(auth_client, body):
    await error_of(await auth_client.post("/api/v1/auth/login", json=body), 422)


async def test_me_needs_credentials(auth_client):
    body = await error_of(await auth_client.get("/api/v1/auth/me"), 401)
    assert body["error"] == "authentication_required"
    other_scheme = await auth_client.get("/api/v1/auth/me", headers={"Authorization": "Basic eDp5"})
    assert other_scheme.status == 401
    empty = await auth_client.get("/api/v1/auth/me", headers={"Authorization": "Bearer "})
    assert (await error_of(empty, 401))["error"] == "invalid_credentials"


async def test_a_deactivated_account_cannot_log_in_and_looks_like_a_wrong_password(auth_client):
    from agentvault_registry.plugins.auth.appkeys import AUTH_SERVICE

    user = await register(auth_client)
    await auth_client.app[AUTH_SERVICE].deactivate(user["id"])
    response = await auth_client.post(
        "/api/v1/auth/login", json={"username": "ada", "password": PASSWORD}
    )
    assert (await error_of(response, 401))["message"] == "Invalid login or password."


async def test_changing_the_password_ends_every_other_session(auth_client):
    await register(auth_client)
    this_session = await login(auth_client)
    other_session = await login(auth_client)
    new_password = "a brand new passphrase 7"
    response = await auth_client.put(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=bearer(this_session["access_token"]),
    )
    assert response.status == 204
    assert (
        await auth_client.get("/api/v1/auth/me", headers=bearer(this_session["access_token"]))
    ).status == 200
    assert (
        await auth_client.get("/api/v1/auth/me", headers=bearer(other_session["access_token"]))
    ).status == 401
    stale = await auth_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": other_session["refresh_token"]}
    )
    assert stale.status == 401
    await login(auth_client, password=new_password)


async def test_changing_the_password_needs_the_current_one(auth_client):
    pair = await signed_up(auth_client)
    response = await auth_client.put(
        "/api/v1/auth/password",
        json={"current_password": "not my password", "new_password": "a brand new passphrase 7"},
        headers=bearer(pair["access_token"]),
    )
    assert response.status == 401
    await login(auth_client)


async def test_the_new_password_must_pass_the_policy(auth_client):
    pair = await signed_up(auth_client)
    response = await auth_client.put(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=bearer(pair["access_token"]),
    )
    assert "new_password" in (await error_of(response, 422))["details"]


async def test_recovery_resets_the_password_and_ends_all_sessions(auth_client):
    pair = await signed_up(auth_client)
    response = await auth_client.post("/api/v1/auth/recover", json={"email": "ada@example.org"})
    assert response.status == 202
    await wait_for_mail(auth_client.app, 2)
    token = mailed_token(auth_client.app, "reset-password")

    new_password = "recovered passphrase 99"
    confirm = await auth_client.post(
        "/api/v1/auth/recover/confirm", json={"token": token, "new_password": new_password}
    )
    assert confirm.status == 204
    assert (
        await auth_client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))
    ).status == 401
    await login(auth_client, password=new_password)
    reuse = await auth_client.post(
        "/api/v1/auth/recover/confirm",
        json={"token": token, "new_password": "yet another passphrase 1"},
    )
    assert reuse.status == 404


async def test_recovery_answers_the_same_for_unknown_addresses(auth_client):
    from agentvault_registry.plugins.mail.appkeys import MAILER

    await register(auth_client)
    known = await auth_client.post("/api/v1/auth/recover", json={"email": "ada@example.org"})
    unknown = await auth_client.post("/api/v1/auth/recover", json={"email": "nobody@example.org"})
    assert known.status == unknown.status == 202
    assert await known.json() == await unknown.json()
    await wait_for_mail(auth_client.app, 2)
    await asyncio.sleep(0.05)
    assert [message.to for message in auth_client.app[MAILER].outbox] == ["ada@example.org"] * 2


async def test_a_bad_reset_token_is_404(auth_client):
    response = await auth_client.post(
        "/api/v1/auth/recover/confirm",
        json={"token": "nope", "new_password": "recovered passphrase 99"},
    )
    assert response.status == 404


async def test_an_unknown_verification_token_is_404(auth_client):
    assert (
        await auth_client.post("/api/v1/auth/verify-email", json={"token": "nope"})
    ).status == 404


async def test_openapi_documents_every_auth_route_with_its_security(auth_client):
    spec = await (await auth_client.get("/api/v1/openapi.json")).json()
    paths = spec["paths"]
    assert {
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/auth/password",
        "/api/v1/auth/recover",
        "/api/v1/auth/recover/confirm",
        "/api/v1/auth/verify-email",
        "/api/v1/auth/api-keys",
        "/api/v1/auth/api-keys/{key_id}",
    } <= set(paths)
    me = paths["/api/v1/auth/me"]["get"]
    assert me["security"] == [{"bearerAuth": []}, {"apiKeyAuth": []}] and "401" in me["responses"]
    logout = paths["/api/v1/auth/logout"]["post"]
    assert logout["security"] == [{"bearerAuth": []}]
    login_responses = paths["/api/v1/auth/login"]["post"]["responses"]
    assert {"200", "401", "422", "429", "503"} <= set(login_responses)
    assert "security" not in paths["/api/v1/auth/login"]["post"]
    assert "403" in paths["/api/v1/auth/api-keys"]["post"]["responses"]
    assert {"User", "TokenPair", "ApiKeyCreated"} <= set(spec["components"]["schemas"])


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/api/v1/auth/register",
            {"email": "a@example.org", "username": "ada", "password": "\ud800" * 12},
        ),
        ("/api/v1/auth/login", {"username": "\ud800", "password": PASSWORD}),
        ("/api/v1/auth/verify-email", {"token": "\udfff"}),
        ("/api/v1/auth/refresh", {"refresh_token": "\ud800"}),
        ("/api/v1/auth/recover/confirm", {"token": "\ud800", "new_password": PASSWORD}),
    ],
)
async def test_unpaired_surrogates_are_400_everywhere(auth_client, path, body):
    response = await auth_client.post(
        path,
        data=json.dumps(body).encode(),  # json.dumps escapes them as \udXXX
        headers={"Content-Type": "application/json"},
    )
    assert (await error_of(response, 400))["error"] == "malformed_json"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/auth/login", {"username": "ada\u0000", "password": PASSWORD}, "username"),
        ("/api/v1/auth/login", {"email": "a\u0000@example.org", "password": PASSWORD}, "email"),
        ("/api/v1/auth/verify-email", {"token": "abc\u0000"}, "token"),
        ("/api/v1/auth/recover", {"email": "a\u0000@example.org"}, "email"),
    ],
)
async def test_nul_characters_in_names_and_tokens_are_422(auth_client, path, body, field):
    response = await auth_client.post(
        path, data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert field in (await error_of(response, 422))["details"]
