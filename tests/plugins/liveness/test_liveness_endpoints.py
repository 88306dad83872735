"""Who may use the liveness endpoints and what bad requests get: missing auth, someone else's
agent, unknown agents, stale If-Match, malformed bodies, the rate limit; always the one JSON
error shape."""

from __future__ import annotations

import uuid

import pytest
from liveness_helpers import AGENTS, app_overrides, card_at, developer, register

from support import self_onboarded

OWNER_ROUTES = [
    ("POST", "health/check"),
    ("GET", "card/origin"),
    ("POST", "card/resync"),
]
BODY_ROUTES = [("POST", "health/check"), ("POST", "card/resync")]
ERROR_KEYS = {"error", "message", "details", "request_id"}


@pytest.fixture
async def served(liveness_client, origins):
    """A registry, an origin serving ada's agent's card, ada's headers and the agent."""
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins()
    agent = await register(client, ada, card=card_at(origin.url))
    origin.card = card_at(origin.url, description="Changed at the origin.")
    return client, ada, agent, origin


async def error_of(response, status: int) -> dict:
    assert response.status == status, await response.text()
    body = await response.json()
    assert set(body) == ERROR_KEYS
    return body


@pytest.mark.parametrize(("method", "path"), OWNER_ROUTES)
async def test_without_credentials_the_owner_routes_are_401(served, method, path):
    client, _, agent, origin = served
    response = await client.request(method, f"{AGENTS}/{agent['id']}/{path}")
    assert (await error_of(response, 401))["error"] == "authentication_required"
    assert origin.seen == []


@pytest.mark.parametrize(("method", "path"), OWNER_ROUTES)
async def test_another_developers_agent_is_403(served, method, path):
    client, _, agent, origin = served
    bob = await developer(client, "bob")
    response = await client.request(method, f"{AGENTS}/{agent['id']}/{path}", headers=bob)
    assert (await error_of(response, 403))["error"] == "forbidden"
    assert origin.seen == []


@pytest.mark.parametrize(("method", "path"), OWNER_ROUTES)
async def test_an_unknown_agent_is_404(served, method, path):
    client, ada, _, _ = served
    for reference in (str(uuid.uuid4()), "no-such-slug"):
        response = await client.request(method, f"{AGENTS}/{reference}/{path}", headers=ada)
        assert (await error_of(response, 404))["error"] == "not_found"


async def test_the_health_of_an_unknown_agent_is_404(served):
    client, _, _, _ = served
    response = await client.get(f"{AGENTS}/{uuid.uuid4()}/health")
    assert (await error_of(response, 404))["error"] == "not_found"


async def test_anyone_may_read_an_agents_health_by_any_of_its_names(served):
    client, _, agent, _ = served
    for reference in (agent["id"], agent["did"], agent["humanReadableId"]):
        response = await client.get(f"{AGENTS}/{reference}/health")
        assert response.status == 200
        assert (await response.json())["agent_id"] == agent["id"]


@pytest.mark.parametrize(("method", "path"), OWNER_ROUTES)
async def test_an_admin_may_use_the_owner_routes(served, method, path):
    client, _, agent, _ = served
    admin = await developer(client, "root", role="admin")
    response = await client.request(method, f"{AGENTS}/{agent['id']}/{path}", headers=admin)
    assert response.status == 200, await response.text()


async def test_an_agents_own_key_checks_itself_and_no_sibling(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins()
    origin.card = card_at(origin.url)
    onboarded = await self_onboarded(client, ada, {"card": card_at(origin.url)})
    own_key = {"X-API-Key": onboarded["credentials"]["api_key"]}
    sibling = await register(client, ada, card=card_at(origin.url))

    mine = await client.post(f"{AGENTS}/{onboarded['agent']['id']}/health/check", headers=own_key)
    assert mine.status == 200, await mine.text()
    assert (await mine.json())["status"] == "healthy"
    theirs = await client.post(f"{AGENTS}/{sibling['id']}/health/check", headers=own_key)
    assert (await error_of(theirs, 403))["error"] == "forbidden"


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_a_malformed_body_is_400(served, method, path):
    client, ada, agent, _ = served
    response = await client.request(
        method,
        f"{AGENTS}/{agent['id']}/{path}",
        data=b'{"card_hash": ',
        headers={**ada, "Content-Type": "application/json"},
    )
    assert (await error_of(response, 400))["error"] == "malformed_json"


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize("body", [[], "text", {"surprise": True}])
async def test_a_body_of_the_wrong_shape_is_422(served, method, path, body):
    client, ada, agent, origin = served
    response = await client.request(
        method, f"{AGENTS}/{agent['id']}/{path}", json=body, headers=ada
    )
    assert (await error_of(response, 422))["error"] == "validation_failed"
    assert origin.seen == []


@pytest.mark.parametrize("card_hash", [5, None, "ABC", "0" * 63, "g" * 64])
async def test_a_card_hash_that_is_no_sha256_is_422(served, card_hash):
    client, ada, agent, _ = served
    response = await client.post(
        f"{AGENTS}/{agent['id']}/card/resync", json={"card_hash": card_hash}, headers=ada
    )
    error = await error_of(response, 422)
    assert "card_hash" in error["details"]


async def test_a_body_that_is_not_json_is_415(served):
    client, ada, agent, _ = served
    response = await client.post(
        f"{AGENTS}/{agent['id']}/health/check",
        data=b"check please",
        headers={**ada, "Content-Type": "text/plain"},
    )
    assert (await error_of(response, 415))["error"] == "unsupported_media_type"


@pytest.mark.parametrize("tag", ['"{id}.2"', '"{id}.0"', '"someone-else.1"', "garbage"])
async def test_resync_with_an_if_match_of_another_version_is_412(served, tag):
    client, ada, agent, origin = served
    response = await client.post(
        f"{AGENTS}/{agent['id']}/card/resync",
        headers={**ada, "If-Match": tag.format(id=agent["id"])},
    )
    assert (await error_of(response, 412))["error"] == "precondition_failed"
    unchanged = await client.get(f"{AGENTS}/{agent['id']}")
    assert unchanged.headers["ETag"] == f'"{agent["id"]}.1"'
    assert origin.seen == []


async def test_resync_after_someone_else_changed_the_agent_is_412(served):
    client, ada, agent, _ = served
    read_before = f'"{agent["id"]}.1"'
    patched = await client.patch(f"{AGENTS}/{agent['id']}", json={"tags": ["edited"]}, headers=ada)
    assert patched.status == 200
    response = await client.post(
        f"{AGENTS}/{agent['id']}/card/resync", headers={**ada, "If-Match": read_before}
    )
    assert (await error_of(response, 412))["error"] == "precondition_failed"


async def test_owner_fetches_are_rate_limited_per_caller(
    aiohttp_client, make_app, records_overrides, origins
):
    overrides = app_overrides(storage=records_overrides)
    overrides["rate_limits"]["liveness.check"] = "2/minute"
    client = await aiohttp_client(make_app(overrides))
    ada = await developer(client, "ada")
    origin = await origins()
    origin.card = card_at(origin.url)
    agent = await register(client, ada, card=card_at(origin.url))

    statuses = []
    for _, path in OWNER_ROUTES:
        method = "GET" if path == "card/origin" else "POST"
        response = await client.request(method, f"{AGENTS}/{agent['id']}/{path}", headers=ada)
        statuses.append(response.status)
        if response.status == 429:
            assert int(response.headers["Retry-After"]) > 0
            assert (await response.json())["error"] == "rate_limited"
    assert statuses == [200, 200, 429]
    assert len(origin.seen) == 2
    # Reading an agent's health is not an origin fetch: it is not limited.
    assert (await client.get(f"{AGENTS}/{agent['id']}/health")).status == 200
