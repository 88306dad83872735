"""Cards imported from a URL and ownership proven by a served challenge, over real HTTP."""

from __future__ import annotations

import json

import pytest
from agents_helpers import account, app_overrides, register_agent
from aiohttp import web

from sample_cards import V1_CARD
from support import free_port

AGENTS = "/api/v1/agents"


@pytest.fixture
async def agent_host():
    """A real HTTP server on loopback playing the agent's own host."""
    served: dict[str, web.Response] = {}

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path in served:
            return served[request.path]
        return web.Response(status=404)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", served
    finally:
        await runner.cleanup()


@pytest.fixture
async def trusting_client(aiohttp_client, make_app):
    """Private targets allowed: the agent's host is on loopback in these tests."""
    return await aiohttp_client(make_app(app_overrides(outbound={"allow_private_targets": True})))


async def test_a_card_is_imported_from_the_well_known_path(trusting_client, agent_host):
    origin, served = agent_host
    served["/.well-known/agent-card.json"] = web.json_response(V1_CARD)
    ada = await account(trusting_client, "ada")
    response = await trusting_client.post(AGENTS, json={"cardUrl": origin}, headers=ada)
    assert response.status == 201, await response.text()
    assert (await response.json())["name"] == "Translator"


async def test_the_older_well_known_name_is_tried_next(trusting_client, agent_host):
    origin, served = agent_host
    served["/.well-known/agent.json"] = web.json_response(V1_CARD)
    ada = await account(trusting_client, "ada")
    response = await trusting_client.post(AGENTS, json={"cardUrl": origin}, headers=ada)
    assert response.status == 201, await response.text()


async def test_a_url_without_a_card_is_422(trusting_client, agent_host):
    origin, _ = agent_host
    ada = await account(trusting_client, "ada")
    response = await trusting_client.post(AGENTS, json={"cardUrl": origin}, headers=ada)
    assert response.status == 422


async def test_ownership_is_proven_by_serving_the_challenge(trusting_client, agent_host):
    origin, served = agent_host
    ada = await account(trusting_client, "ada")
    agent = await register_agent(trusting_client, ada, apiEndpoints=[f"{origin}/a2a"])
    challenge = await (
        await trusting_client.post(f"{AGENTS}/{agent['id']}/verify", headers=ada)
    ).json()
    assert challenge["status"] == "pending"
    assert challenge["url"] == f"{origin}/.well-known/agentvault-challenge/{challenge['token']}"

    not_yet = await trusting_client.post(f"{AGENTS}/{agent['id']}/verify", headers=ada)
    assert not_yet.status == 422
    assert "HTTP 404" in str((await not_yet.json())["details"])

    served[f"/.well-known/agentvault-challenge/{challenge['token']}"] = web.Response(
        text=challenge["token"] + "\n"
    )
    done = await trusting_client.post(f"{AGENTS}/{agent['id']}/verify", headers=ada)
    assert done.status == 200, await done.text()
    assert (await done.json())["status"] == "verified"
    refreshed = await (await trusting_client.get(f"{AGENTS}/{agent['id']}")).json()
    assert refreshed["verified"] is True and refreshed["verifiedAt"]


class Canary:
    """Counts TCP connections to a loopback port: none may arrive."""

    def __init__(self):
        self.connections = 0


@pytest.fixture
async def canary():
    import asyncio

    counter = Canary()

    async def accept(reader, writer):
        counter.connections += 1
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    counter.port = server.sockets[0].getsockname()[1]
    try:
        yield counter
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    "template",
    [
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://2130706433:{port}/",
        "http://0177.0.0.1:{port}/",
        "http://0x7f.0.0.1:{port}/",
        "http://[::1]:{port}/",
        "http://[64:ff9b::7f00:1]:{port}/",
        "http://10.0.0.1/",
        "http://172.16.0.1/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
    ],
)
async def test_card_urls_to_internal_addresses_are_refused(agents_client, canary, template):
    ada = await account(agents_client, "ada")
    url = template.format(port=canary.port)
    response = await agents_client.post(AGENTS, json={"cardUrl": url}, headers=ada)
    assert response.status == 422, await response.text()
    assert (await response.json())["error"] == "fetch_refused"
    assert canary.connections == 0


@pytest.mark.parametrize(
    "template",
    [
        "http://127.0.0.1:{port}/a2a",
        "http://[::1]:{port}/a2a",
        "http://[::ffff:127.0.0.1]:{port}/a2a",
        "http://10.0.0.1/a2a",
        "http://172.16.0.1/a2a",
        "http://192.168.0.1/a2a",
        "http://169.254.169.254/a2a",
        "http://100.64.0.1/a2a",
        "http://[64:ff9b::7f00:1]:{port}/a2a",
        "http://localhost:{port}/a2a",
    ],
)
async def test_verification_against_an_internal_endpoint_is_refused(
    agents_client, canary, template
):
    ada = await account(agents_client, "ada")
    endpoint = template.format(port=canary.port)
    created = await agents_client.post(
        AGENTS, json={"name": "n", "description": "d", "apiEndpoints": [endpoint]}, headers=ada
    )
    if created.status == 422:
        # Not even accepted as an endpoint: nothing will ever be fetched from it.
        assert canary.connections == 0
        return
    agent = await created.json()
    await agents_client.post(f"{AGENTS}/{agent['id']}/verify", headers=ada)
    response = await agents_client.post(f"{AGENTS}/{agent['id']}/verify", headers=ada)
    assert response.status == 422
    assert (await response.json())["error"] == "fetch_refused"
    assert canary.connections == 0


async def test_a_fetched_card_with_an_unpaired_surrogate_escape_is_422(trusting_client, agent_host):
    """Found by the parser fuzzer: ``"\\ud800"`` is a legal JSON escape but no text; the
    fetched card reached the normalizer unchecked and failed it with a 500."""
    origin, served = agent_host
    text = json.dumps(V1_CARD).replace('"Translator"', '"Trans\\ud800lator"')
    served["/.well-known/agent-card.json"] = web.Response(
        text=text, content_type="application/json"
    )
    ada = await account(trusting_client, "ada")
    response = await trusting_client.post(AGENTS, json={"cardUrl": origin}, headers=ada)
    assert response.status == 422, await response.text()
    assert "not valid Unicode" in str((await response.json())["details"])
