"""Who may do what to whose agent: every route, every kind of caller, own and other agents."""

from __future__ import annotations

import pytest
from agents_helpers import account, register_agent

from agentvault_registry import hookimpl

AGENTS = "/api/v1/agents"
MUTATIONS = [
    ("PATCH", "", {"description": "changed"}),
    (
        "PUT",
        "",
        {"name": "Changed", "description": "changed", "apiEndpoints": ["https://b.example.com/"]},
    ),
    ("DELETE", "", None),
    ("POST", "/verify", None),
]


@pytest.fixture
async def world(agents_client):
    owner = await account(agents_client, "owner")
    other = await account(agents_client, "other")
    admin = await account(agents_client, "boss", role="admin")
    agent = await register_agent(agents_client, owner, apiEndpoints=["https://a.example.com/"])
    return {"owner": owner, "other": other, "admin": admin, "anonymous": {}}, agent


async def snapshot(client, agent_id):
    response = await client.get(f"{AGENTS}/{agent_id}")
    return response.status, await response.json()


@pytest.mark.parametrize(("method", "suffix", "body"), MUTATIONS)
@pytest.mark.parametrize(("caller", "status"), [("other", 403), ("anonymous", 401)])
async def test_nobody_else_changes_an_agent(
    agents_client, world, method, suffix, body, caller, status
):
    callers, agent = world
    before = await snapshot(agents_client, agent["id"])
    response = await agents_client.request(
        method, f"{AGENTS}/{agent['id']}{suffix}", json=body, headers=callers[caller]
    )
    assert response.status == status, await response.text()
    assert await snapshot(agents_client, agent["id"]) == before


@pytest.mark.parametrize(("method", "suffix", "body"), MUTATIONS)
@pytest.mark.parametrize("caller", ["owner", "admin"])
async def test_the_owner_and_admins_change_an_agent(
    agents_client, world, method, suffix, body, caller
):
    callers, agent = world
    response = await agents_client.request(
        method, f"{AGENTS}/{agent['id']}{suffix}", json=body, headers=callers[caller]
    )
    assert response.status in {200, 204}, await response.text()


@pytest.mark.parametrize("caller", ["owner", "other", "admin", "anonymous"])
@pytest.mark.parametrize("suffix", ["", "/card"])
async def test_everyone_reads_an_agent(agents_client, world, caller, suffix):
    callers, agent = world
    response = await agents_client.get(f"{AGENTS}/{agent['id']}{suffix}", headers=callers[caller])
    assert response.status == 200


async def test_registering_needs_credentials(agents_client):
    response = await agents_client.post(AGENTS, json={"name": "x", "description": "y"})
    assert response.status == 401


async def test_an_api_key_needs_the_write_scope_to_register(agents_client):
    owner = await account(agents_client, "keyholder")
    minted = await agents_client.post(
        "/api/v1/auth/api-keys", json={"name": "ro", "scopes": ["agents:read"]}, headers=owner
    )
    key = (await minted.json())["key"]
    response = await agents_client.post(
        AGENTS, json={"name": "x", "description": "y"}, headers={"X-API-Key": key}
    )
    assert response.status == 403


class ChangeRecorder:
    def __init__(self):
        self.seen = []

    @hookimpl
    def agent_changed(self, event_type, agent, actor):
        async def record():
            self.seen.append((event_type, agent.name, actor.subject if actor else None))

        return record()


async def test_plugins_hear_about_every_change(aiohttp_client, make_app):
    from agents_helpers import app_overrides

    recorder = ChangeRecorder()
    client = await aiohttp_client(make_app(app_overrides(), plugins=[("recorder", recorder)]))
    owner = await account(client, "owner")
    agent = await register_agent(client, owner)
    await client.patch(f"{AGENTS}/{agent['id']}", json={"name": "Renamed"}, headers=owner)
    await client.delete(f"{AGENTS}/{agent['id']}", headers=owner)
    await client.close()  # drains background work
    assert [(kind, name) for kind, name, _ in recorder.seen] == [
        ("created", "Echo"),
        ("updated", "Renamed"),
        ("deleted", "Renamed"),
    ]
    assert {actor for _, _, actor in recorder.seen} == {agent["developerId"]}
