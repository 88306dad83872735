"""Ending a session, an account or a role takes effect on the very next request."""

from __future__ import annotations

import asyncio

import jwt
from aiohttp import web
from auth_helpers import (
    PASSWORD,
    bearer,
    fast_auth,
    mailed_token,
    register,
    signed_up,
    wait_for_mail,
)

from agentvault_registry import Identity, current_identity, hookimpl, requires
from agentvault_registry.plugins.auth.appkeys import AUTH_SERVICE
from agentvault_registry.plugins.auth.credentials import identify
from agentvault_registry.plugins.mail.appkeys import MAILER

ME = "/api/v1/auth/me"


async def status_of(response_awaitable) -> int:
    return (await response_awaitable).status


async def test_a_refresh_racing_a_logout_leaves_no_live_session(auth_client):
    for _ in range(10):
        pair = (
            await signed_up(auth_client, "racer")
            if _ == 0
            else await (
                await auth_client.post(
                    "/api/v1/auth/login", json={"username": "racer", "password": PASSWORD}
                )
            ).json()
        )
        refreshed, _logout = await asyncio.gather(
            auth_client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}),
            auth_client.post("/api/v1/auth/logout", headers=bearer(pair["access_token"])),
        )
        if refreshed.status == 200:
            rotated = await refreshed.json()
            assert (
                await auth_client.get(ME, headers=bearer(rotated["access_token"]))
            ).status == 401
            again = await auth_client.post(
                "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
            )
            assert again.status == 401


async def test_deactivation_ends_tokens_and_keys_at_once(auth_client):
    user = await register(auth_client)
    pair = await (
        await auth_client.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
    ).json()
    key = await (
        await auth_client.post(
            "/api/v1/auth/api-keys",
            json={"name": "ci", "scopes": ["agents:read"]},
            headers=bearer(pair["access_token"]),
        )
    ).json()
    await auth_client.app[AUTH_SERVICE].deactivate(user["id"])
    assert (await auth_client.get(ME, headers=bearer(pair["access_token"]))).status == 401
    assert (await auth_client.get(ME, headers={"X-API-Key": key["key"]})).status == 401
    assert (
        await auth_client.post("/api/v1/auth/logout", headers=bearer(pair["access_token"]))
    ).status == 401


async def test_a_role_change_applies_to_existing_tokens(auth_client):
    user = await register(auth_client)
    service = auth_client.app[AUTH_SERVICE]
    await service.set_role(user["id"], "admin")
    pair = await (
        await auth_client.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
    ).json()
    assert (await identify(auth_client.app, pair["access_token"])).roles == {"admin"}
    await service.set_role(user["id"], "developer")
    demoted = await identify(auth_client.app, pair["access_token"])
    assert demoted.roles == {"developer"}
    assert "admin" not in demoted.scopes


async def test_recovery_revokes_api_keys(auth_client):
    pair = await signed_up(auth_client)
    key = await (
        await auth_client.post(
            "/api/v1/auth/api-keys",
            json={"name": "ci", "scopes": ["agents:read"]},
            headers=bearer(pair["access_token"]),
        )
    ).json()
    service = auth_client.app[AUTH_SERVICE]
    await service.recover("ada@example.org", base_url="https://registry.example.org")

    await service.recover_confirm(
        mailed_token(auth_client.app, "reset-password"), "a fresh passphrase 2026"
    )
    assert (await auth_client.get(ME, headers={"X-API-Key": key["key"]})).status == 401


async def test_mail_links_use_the_configured_public_url_not_the_host_header(
    aiohttp_client, make_app
):

    client = await aiohttp_client(
        make_app(fast_auth(server={"public_url": "https://registry.example.org"}))
    )
    await register(client)
    await client.post(
        "/api/v1/auth/recover", json={"email": "ada@example.org"}, headers={"Host": "evil.example"}
    )
    await wait_for_mail(client.app, 2)

    text = client.app[MAILER].outbox[-1].text
    assert "https://registry.example.org/reset-password#token=" in text
    assert "evil.example" not in text
    assert mailed_token(client.app, "reset-password")


class OtherBearerScheme:
    """Another plugin's bearer tokens: opaque strings the auth plugin must leave alone."""

    @hookimpl
    def identity_from_request(self, request):
        if request.headers.get("Authorization") == "Bearer partner-token-1":
            return Identity(kind="partner", subject="partner-1", plugin="partner")
        return None


async def test_bearer_tokens_of_other_schemes_are_left_to_their_plugin(aiohttp_client, make_app):
    @requires()
    async def whoami(request: web.Request) -> web.Response:
        return web.json_response(current_identity(request).subject)

    class Route:
        @hookimpl
        def register_routes(self, settings):
            return [web.get("/test/whoami", whoami)]

    client = await aiohttp_client(
        make_app(fast_auth(), plugins=[("route", Route()), ("partner", OtherBearerScheme())])
    )
    response = await client.get("/test/whoami", headers={"Authorization": "Bearer partner-token-1"})
    assert response.status == 200
    assert await response.json() == "partner-1"
    # A JWT of somebody else (foreign issuer and key id) is not the auth plugin's either.
    foreign = jwt.encode(
        {"iss": "elsewhere", "sub": "x"}, "k" * 32, algorithm="HS256", headers={"kid": "theirs"}
    )
    anonymous = await client.get("/test/whoami", headers={"Authorization": f"Bearer {foreign}"})
    assert (await anonymous.json())["error"] == "authentication_required"
