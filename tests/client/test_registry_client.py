"""``RegistryClient`` against a registry listening on loopback."""

from __future__ import annotations

import pytest
from aiohttp import web
from client_harness import new_developer

from agentvault_registry.client import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitedError,
    RegistryClient,
    RegistryConnectionError,
    ServiceUnavailableError,
    ValidationError,
)
from registry_harness import start_registry
from sample_cards import V03_CARD, V1_CARD
from support import free_port


async def logged_in(registry) -> RegistryClient:
    username, password = await new_developer(registry)
    client = RegistryClient(registry.url)
    await client.login(password, username=username)
    return client


async def test_login_gives_a_session_that_mints_api_keys_which_work_until_revoked(registry):
    async with await logged_in(registry) as session:
        me = await session.me()
        created = await session.create_api_key("ci", ["agents:read", "agents:write"])
        assert created["key"].startswith("avk_")
        assert [key["id"] for key in await session.list_api_keys()] == [created["id"]]
        async with RegistryClient(registry.url, api_key=created["key"]) as keyed:
            assert (await keyed.me())["id"] == me["id"]
            await session.revoke_api_key(created["id"])
            with pytest.raises(AuthenticationError) as raised:
                await keyed.me()
    assert raised.value.status == 401
    assert raised.value.request_id


async def test_register_then_login_by_email(registry):
    async with RegistryClient(registry.url) as client:
        user = await client.register("grace@example.org", "grace", "a long enough passphrase 7")
        tokens = await client.login("a long enough passphrase 7", email="grace@example.org")
        assert tokens["token_type"].lower() == "bearer"
        assert (await client.me())["id"] == user["id"]


async def test_refresh_rotates_the_pair_and_a_spent_refresh_token_is_refused(registry):
    username, password = await new_developer(registry)
    async with RegistryClient(registry.url) as client:
        first = await client.login(password, username=username)
        second = await client.refresh(first["refresh_token"])
        assert client.access_token == second["access_token"] != first["access_token"]
        with pytest.raises(AuthenticationError):
            await client.refresh(first["refresh_token"])


async def test_logout_ends_the_session(registry):
    async with await logged_in(registry) as client:
        ended = client.access_token
        await client.logout()
        assert client.access_token is None
        client.access_token = ended
        with pytest.raises(AuthenticationError):
            await client.me()


async def test_agent_lifecycle_from_a_card(registry):
    async with await logged_in(registry) as client:
        created = await client.create_agent(card=V03_CARD)
        assert created["cardWarnings"], "upgrading a v0.3 card says what it changed"
        by_slug = await client.get_agent(created["humanReadableId"])
        assert by_slug["id"] == created["id"]
        agent, etag = await client.get_agent_with_etag(created["id"])
        updated = await client.update_agent(agent["id"], {"tags": ["docs"]}, if_match=etag)
        assert updated["tags"] == ["docs"]
        with pytest.raises(PreconditionFailedError):
            await client.update_agent(agent["id"], {"tags": ["late"]}, if_match=etag)
        card = await client.get_agent_card(agent["id"])
        assert card["name"] == V03_CARD["name"]
        _, current = await client.get_agent_with_etag(agent["id"])
        await client.delete_agent(agent["id"], if_match=current)
        with pytest.raises(NotFoundError) as raised:
            await client.get_agent(agent["id"])
    assert raised.value.code


async def test_listing_my_agents_follows_the_cursors(registry):
    async with await logged_in(registry) as client:
        ids = {(await client.create_agent(card=V1_CARD))["id"] for _ in range(3)}
        first = await client.list_agents(mine=True, per_page=2)
        assert len(first["agents"]) == 2 and first["pagination"]["next_cursor"]
        listed = {agent["id"] async for agent in client.iter_agents(mine=True, per_page=2)}
    assert listed == ids


async def test_search_passes_text_capabilities_and_filters(registry):
    async with await logged_in(registry) as client:
        translator = await client.create_agent(card=V1_CARD)
        await client.create_agent(card=V03_CARD)
        found = await client.search("translates", capabilities=["translate"], streaming=True)
        assert [agent["id"] for agent in found["agents"]] == [translator["id"]]
        assert found["federation_status"]["peers_queried"] == 0
        none = await client.search(capabilities=["translate"], streaming=False)
        assert none["agents"] == []
        every = [agent async for agent in client.iter_search(per_page=1)]
        assert len(every) == 2
        assert "translate" in str(await client.capabilities())


async def test_a_refused_card_is_a_validation_error_with_field_details(registry):
    async with await logged_in(registry) as client:
        with pytest.raises(ValidationError) as raised:
            await client.create_agent(card={"name": "No skills", "description": "x"})
    error = raised.value
    assert (error.status, error.code) == (422, "invalid_agent_card")
    assert error.details and all(isinstance(reasons, list) for reasons in error.details.values())


async def test_someone_elses_agent_is_forbidden(registry):
    async with await logged_in(registry) as owner, await logged_in(registry) as stranger:
        agent = await owner.create_agent(card=V1_CARD)
        with pytest.raises(PermissionDeniedError):
            await stranger.delete_agent(agent["id"])


async def test_bootstrap_tokens_are_minted_and_listed(registry):
    async with await logged_in(registry) as client:
        issued = await client.create_bootstrap_token(
            agent_type_hint="assistant", metadata={"team": "docs"}, expires_in=600
        )
        assert issued["bootstrap_token"].startswith("BST_")
        listed = await client.list_bootstrap_tokens()
        assert [token["id"] for token in listed["tokens"]] == [issued["id"]]
        await client.revoke_bootstrap_token(issued["id"])


async def test_federation_status_needs_an_admin_and_health_needs_nobody(registry):
    admin_token = registry.admin["Authorization"].removeprefix("Bearer ")
    async with RegistryClient(registry.url, access_token=admin_token) as admin:
        assert "peers" in str(await admin.federation_status())
    async with await logged_in(registry) as developer:
        with pytest.raises(PermissionDeniedError):
            await developer.federation_status()
    async with RegistryClient(registry.url) as anonymous:
        assert await anonymous.health()


async def test_a_rate_limited_post_is_not_retried(make_settings, tmp_path):
    limited = await start_registry(
        make_settings,
        "Limited",
        {"data_dir": str(tmp_path / "limited"), "rate_limits": {"auth.login": "2/minute"}},
    )
    try:
        username, password = await new_developer(limited)
        async with RegistryClient(limited.url) as client:
            await client.login(password, username=username)  # the admin's was the first
            with pytest.raises(RateLimitedError) as raised:
                await client.login(password, username=username)
    finally:
        await limited.session.close()
        await limited.runner.cleanup()
    assert raised.value.status == 429 and raised.value.retry_after >= 1


@pytest.fixture
async def flaky_server():
    """A server that answers 429 (Retry-After: 0) to the first two requests of each path."""
    seen: dict[str, int] = {}

    async def handler(request: web.Request) -> web.Response:
        seen[request.path] = seen.get(request.path, 0) + 1
        if seen[request.path] <= 2:
            body = {"error": "rate_limited", "message": "slow down", "details": {}}
            return web.json_response(body, status=429, headers={"Retry-After": "0"})
        return web.json_response({"ok": True, "agents": [], "pagination": {}})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


async def test_idempotent_requests_are_retried_after_429_a_bounded_number_of_times(flaky_server):
    url, seen = flaky_server
    async with RegistryClient(url) as client:
        assert (await client.get_agent("a"))["ok"]
        assert seen["/api/v1/agents/a"] == 3
    async with RegistryClient(url, max_retries=1) as impatient:
        with pytest.raises(RateLimitedError):
            await impatient.get_agent("b")
        assert seen["/api/v1/agents/b"] == 2
        with pytest.raises(RateLimitedError):
            await impatient.create_agent(card=V1_CARD)
        assert seen["/api/v1/agents"] == 1


async def test_an_unreachable_registry_is_a_connection_error():
    async with RegistryClient(f"http://127.0.0.1:{free_port()}", timeout=5) as client:
        with pytest.raises(RegistryConnectionError, match="cannot reach"):
            await client.health()


async def test_an_error_without_the_registry_shape_still_has_its_status():
    app = web.Application()

    async def down(request: web.Request) -> web.Response:
        return web.Response(status=503, text="<html>down</html>", content_type="text/html")

    app.router.add_get("/health", down)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with RegistryClient(f"http://127.0.0.1:{port}", max_retries=0) as client:
            with pytest.raises(ServiceUnavailableError) as raised:
                await client.health()
    finally:
        await runner.cleanup()
    assert (raised.value.status, raised.value.code) == (503, "http_503")
