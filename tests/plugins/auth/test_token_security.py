"""Forged, stale and replayed tokens are refused with the exact status, never a 500."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json

import jwt
import pytest
from auth_helpers import PASSWORD, bearer, fast_auth, login, register, signed_up
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from agentvault_registry.core.appkeys import JWT_SECRET
from agentvault_registry.core.errors import ConfigError

ME = "/api/v1/auth/me"


def claims_for(user_id: str, **changes) -> dict:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {
        "sub": user_id,
        "email": "ada@example.org",
        "role": "developer",
        "sid": "session",
        "iss": "agentvault-registry",
        "aud": "agentvault-registry",
        "iat": now,
        "exp": now + 600,
        "jti": "forged",
        "typ": "access",
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


async def refused(client, token: str) -> dict:
    response = await client.get(ME, headers=bearer(token))
    assert response.status == 401, await response.text()
    return await response.json()


@pytest.fixture
async def user(auth_client):
    return await register(auth_client)


def hs256(client, claims: dict, kid: str = "default") -> str:
    return jwt.encode(claims, client.app[JWT_SECRET], algorithm="HS256", headers={"kid": kid})


async def test_a_correctly_signed_token_is_accepted(auth_client, user):
    assert (
        await auth_client.get(ME, headers=bearer(hs256(auth_client, claims_for(user["id"]))))
    ).status == 200


async def test_alg_none_is_refused(auth_client, user):
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": "default"}).encode())
    payload = base64.urlsafe_b64encode(json.dumps(claims_for(user["id"])).encode())
    token = f"{header.decode().rstrip('=')}.{payload.decode().rstrip('=')}."
    await refused(auth_client, token)


async def test_wrong_audience_is_refused(auth_client, user):
    await refused(auth_client, hs256(auth_client, claims_for(user["id"], aud="another-service")))


async def test_wrong_issuer_is_refused(auth_client, user):
    await refused(auth_client, hs256(auth_client, claims_for(user["id"], iss="evil")))


async def test_an_expired_token_is_refused(auth_client, user):
    past = int(dt.datetime.now(dt.UTC).timestamp()) - 3600
    body = await refused(
        auth_client, hs256(auth_client, claims_for(user["id"], iat=past - 60, exp=past))
    )
    assert body["message"] == "The token has expired."


async def test_a_token_without_exp_is_refused(auth_client, user):
    await refused(auth_client, hs256(auth_client, claims_for(user["id"], exp=None)))


async def test_an_unknown_kid_is_refused(auth_client, user):
    body = await refused(auth_client, hs256(auth_client, claims_for(user["id"]), kid="rotated-out"))
    assert "unknown key" in body["message"]


async def test_a_tampered_payload_is_refused(auth_client, user):
    header, _, signature = hs256(auth_client, claims_for(user["id"])).split(".")
    payload = (
        base64.urlsafe_b64encode(json.dumps(claims_for(user["id"], role="admin")).encode())
        .decode()
        .rstrip("=")
    )
    await refused(auth_client, f"{header}.{payload}.{signature}")


async def test_a_refresh_token_is_not_an_access_token(auth_client):
    pair = await signed_up(auth_client)
    await refused(auth_client, pair["refresh_token"])


async def test_garbage_is_refused(auth_client):
    for token in ("not-a-jwt", "a.b.c", "x" * 5000):
        await refused(auth_client, token)


async def test_a_denylisted_jti_is_refused(auth_client):
    pair = await signed_up(auth_client)
    assert (
        await auth_client.post("/api/v1/auth/logout", headers=bearer(pair["access_token"]))
    ).status == 204
    body = await refused(auth_client, pair["access_token"])
    assert body["message"] == "This token has been revoked."


async def test_refresh_token_reuse_revokes_the_family(auth_client):
    pair = await signed_up(auth_client)
    first = await auth_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert first.status == 200
    rotated = await first.json()

    replay = await auth_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert replay.status == 401
    assert "revoked" in (await replay.json())["message"]
    # Everything born from that login is dead: the rotated refresh and access tokens.
    again = await auth_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert again.status == 401
    await refused(auth_client, rotated["access_token"])


async def test_two_concurrent_refreshes_succeed_at_most_once(auth_client):
    pair = await signed_up(auth_client)
    responses = await asyncio.gather(
        *(
            auth_client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
            for _ in range(2)
        )
    )
    assert sorted(response.status for response in responses) == [200, 401]


@pytest.mark.parametrize(
    "password",
    [
        "a" * 73,
        "b" * 1000,
        "🔐🦄🌍 emoji passphrase 🔑🎉",
        "nul\x00inside-the-password",
    ],
    ids=["73-bytes", "1000-bytes", "emoji", "nul"],
)
async def test_unusual_passwords_work_in_full(auth_client, password):
    await register(auth_client, "unusual", password=password)
    await login(auth_client, "unusual", password)
    # Every character counts: one changed character at the end fails.
    wrong = await auth_client.post(
        "/api/v1/auth/login", json={"username": "unusual", "password": password[:-1] + "!"}
    )
    assert wrong.status == 401


async def test_a_password_over_1024_characters_is_refused_by_policy(auth_client):
    response = await auth_client.post(
        "/api/v1/auth/register",
        json={"email": "long@example.org", "username": "long", "password": "c" * 1025},
    )
    assert response.status == 422
    assert "password" in (await response.json())["details"]


async def test_unknown_user_and_wrong_password_look_the_same(auth_client):
    await register(auth_client)
    unknown = await auth_client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": PASSWORD}
    )
    wrong = await auth_client.post(
        "/api/v1/auth/login", json={"username": "ada", "password": PASSWORD + "x"}
    )
    assert unknown.status == wrong.status == 401
    unknown_body, wrong_body = await unknown.json(), await wrong.json()
    assert unknown_body.pop("request_id") != wrong_body.pop("request_id")
    assert unknown_body == wrong_body


@pytest.fixture
def rsa_keys():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


async def test_rs256_tokens_work_and_hs256_signed_with_the_public_key_is_refused(
    aiohttp_client, make_app, rsa_keys
):
    private_pem, public_pem = rsa_keys
    auth_options = {
        "bcrypt_cost": 4,
        "jwt_algorithm": "RS256",
        "jwt_keys": [{"kid": "rsa-1", "private_key": private_pem, "public_key": public_pem}],
    }
    client = await aiohttp_client(make_app(fast_auth(plugins={"auth": auth_options})))
    pair = await signed_up(client)
    assert jwt.get_unverified_header(pair["access_token"]) == {
        "alg": "RS256",
        "kid": "rsa-1",
        "typ": "JWT",
    }
    assert (await client.get(ME, headers=bearer(pair["access_token"]))).status == 200

    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    # The classic confusion attack: HMAC keyed with the (public) RSA key.
    header = (
        base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": "rsa-1"}).encode())
        .decode()
        .rstrip("=")
    )
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    signature = hmac.new(
        public_pem.encode(), f"{header}.{payload}".encode(), hashlib.sha256
    ).digest()
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"
    await refused(client, forged)


async def test_a_retired_key_still_verifies_until_removed(aiohttp_client, make_app):
    old, new = "o" * 40, "n" * 40
    retiring = {"bcrypt_cost": 4, "jwt_keys": [{"kid": "old", "secret": old}]}
    first = await aiohttp_client(make_app(fast_auth(plugins={"auth": retiring})))
    pair = await signed_up(first)
    await first.close()

    rotated = {
        "bcrypt_cost": 4,
        "jwt_keys": [{"kid": "new", "secret": new}, {"kid": "old", "secret": old}],
    }
    second = await aiohttp_client(make_app(fast_auth(plugins={"auth": rotated})))
    assert (await second.get(ME, headers=bearer(pair["access_token"]))).status == 200
    fresh = await login(second)
    assert jwt.get_unverified_header(fresh["access_token"])["kid"] == "new"


async def test_eddsa_keys_sign_and_verify(aiohttp_client, make_app):
    private = ed25519.Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    auth_options = {
        "bcrypt_cost": 4,
        "jwt_algorithm": "EdDSA",
        "jwt_keys": [{"kid": "ed-1", "private_key": private_pem, "public_key": public_pem}],
    }
    client = await aiohttp_client(make_app(fast_auth(plugins={"auth": auth_options})))
    pair = await signed_up(client)
    assert jwt.get_unverified_header(pair["access_token"])["alg"] == "EdDSA"
    assert (await client.get(ME, headers=bearer(pair["access_token"]))).status == 200
    forged = hs256(client, claims_for("someone"), kid="ed-1")
    await refused(client, forged)


def test_an_asymmetric_algorithm_without_keys_is_a_config_error(make_settings):
    with pytest.raises(ConfigError, match=r"plugins\.auth\.jwt_keys"):
        make_settings({"plugins": {"auth": {"jwt_algorithm": "EdDSA"}}})
