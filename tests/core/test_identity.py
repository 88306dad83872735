"""The core asks each plugin's identity_from_request; the first identity wins."""

from __future__ import annotations

import asyncio

from aiohttp import web

from agentvault_registry import InvalidCredentials, hookimpl
from agentvault_registry.core.identity import (
    Identity,
    current_identity,
    requirement_of,
    requires,
    resolve_identity,
)


class HeaderIdentity:
    """Accepts ``X-Test-User: <name>``; refuses ``X-Test-User: bad``."""

    def __init__(self):
        self.calls = 0

    @hookimpl
    def identity_from_request(self, request):
        self.calls += 1
        user = request.headers.get("X-Test-User")
        if user is None:
            return None

        async def check():
            await asyncio.sleep(0)
            if user == "bad":
                raise InvalidCredentials("That test user is not valid.")
            return Identity(
                kind="user",
                subject=user,
                plugin="header",
                roles=frozenset({"admin"}),
                scopes=frozenset({"agents:write"}),
            )

        return check()


class TokenIdentity:
    """A second scheme, so ordering and short-circuiting can be observed."""

    def __init__(self):
        self.awaited = 0

    @hookimpl
    def identity_from_request(self, request):
        async def check():
            self.awaited += 1
            token = request.headers.get("X-Test-Token")
            return Identity(kind="api_key", subject=token, plugin="token") if token else None

        return check()


class WhoAmIRoutes:
    @hookimpl
    def register_routes(self, settings):
        async def whoami(request):
            identity = await resolve_identity(request)
            again = await resolve_identity(request)
            assert again is identity
            return web.json_response(None if identity is None else identity.subject)

        @requires(role="admin")
        async def admin_only(request):
            return web.json_response(current_identity(request).subject)

        @requires(scope="agents:write")
        async def writers_only(request):
            return web.json_response(current_identity(request).subject)

        @requires(kinds=("user",))
        async def sessions_only(request):
            return web.json_response(current_identity(request).subject)

        return [
            web.get("/test/whoami", whoami),
            web.get("/test/admin", admin_only),
            web.get("/test/writers", writers_only),
            web.get("/test/sessions", sessions_only),
        ]


async def make_client(aiohttp_client, make_app, *identity_plugins):
    plugins = [("routes", WhoAmIRoutes())]
    plugins += [(f"identity{i}", plugin) for i, plugin in enumerate(identity_plugins)]
    return await aiohttp_client(make_app(plugins=plugins))


async def test_no_credentials_means_anonymous(aiohttp_client, make_app):
    client = await make_client(aiohttp_client, make_app, HeaderIdentity())
    response = await client.get("/test/whoami")
    assert await response.json() is None


async def test_a_plugin_recognising_the_credentials_names_the_caller(aiohttp_client, make_app):
    client = await make_client(aiohttp_client, make_app, HeaderIdentity(), TokenIdentity())
    response = await client.get("/test/whoami", headers={"X-Test-Token": "key-1"})
    assert await response.json() == "key-1"


async def test_identity_is_resolved_once_per_request(aiohttp_client, make_app):
    plugin = HeaderIdentity()
    client = await make_client(aiohttp_client, make_app, plugin)
    await client.get("/test/whoami", headers={"X-Test-User": "ada"})
    assert plugin.calls == 1


async def test_the_first_identity_wins_and_later_checks_are_not_awaited(aiohttp_client, make_app):
    token = TokenIdentity()
    # pluggy calls the most recently registered implementation first.
    client = await make_client(aiohttp_client, make_app, token, HeaderIdentity())
    response = await client.get(
        "/test/whoami", headers={"X-Test-User": "ada", "X-Test-Token": "key-1"}
    )
    assert await response.json() == "ada"
    assert token.awaited == 0


async def test_invalid_credentials_are_401_not_anonymous(aiohttp_client, make_app):
    client = await make_client(aiohttp_client, make_app, HeaderIdentity())
    response = await client.get("/test/whoami", headers={"X-Test-User": "bad"})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert (await response.json())["error"] == "invalid_credentials"


async def test_requires_is_401_for_anonymous(aiohttp_client, make_app):
    client = await make_client(aiohttp_client, make_app, HeaderIdentity())
    response = await client.get("/test/admin")
    assert response.status == 401
    assert (await response.json())["error"] == "authentication_required"


async def test_requires_checks_the_role(aiohttp_client, make_app):
    client = await make_client(aiohttp_client, make_app, HeaderIdentity(), TokenIdentity())
    assert (await client.get("/test/admin", headers={"X-Test-User": "ada"})).status == 200
    response = await client.get("/test/admin", headers={"X-Test-Token": "key-1"})
    assert response.status == 403
    assert (await response.json())["error"] == "forbidden"


async def test_requires_checks_the_scope(aiohttp_client, make_app):
    client = await make_client(aiohttp_client, make_app, HeaderIdentity(), TokenIdentity())
    assert (await client.get("/test/writers", headers={"X-Test-User": "ada"})).status == 200
    response = await client.get("/test/writers", headers={"X-Test-Token": "key-1"})
    assert response.status == 403
    assert "agents:write" in (await response.json())["message"]


async def test_requires_checks_the_kind_of_credential(aiohttp_client, make_app):
    client = await make_client(aiohttp_client, make_app, HeaderIdentity(), TokenIdentity())
    assert (await client.get("/test/sessions", headers={"X-Test-User": "ada"})).status == 200
    assert (await client.get("/test/sessions", headers={"X-Test-Token": "k"})).status == 403


def test_the_requirement_is_readable_from_the_view():
    @requires(role="admin", scope="admin")
    async def view(request):
        return web.json_response({})

    requirement = requirement_of(view)
    assert (requirement.role, requirement.scope, requirement.kinds) == ("admin", "admin", None)
