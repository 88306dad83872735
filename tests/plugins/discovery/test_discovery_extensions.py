"""What plugins add to discovery: remote agents (federation) and registration templates."""

from __future__ import annotations

import asyncio

import pytest
from discovery_helpers import account, app_overrides, names

from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.plugins.discovery.remote import PeerStatus, RemoteResults
from agentvault_registry.plugins.discovery.templates import (
    TemplateError,
    builtin_templates,
    checked_templates,
)

SEARCH = "/api/v1/discovery/agents"


def remote_agent(name: str, did: str, created_at: str) -> dict:
    return {
        "id": did.rsplit(":", 1)[-1],
        "did": did,
        "name": name,
        "createdAt": created_at,
        "updatedAt": created_at,
        "is_federated": True,
        "registry_url": "https://peer.example.org",
        "origin_registry_name": "Peer",
    }


class FakeFederation:
    """Two peers: one answers (with a duplicate of a local agent), one times out."""

    def __init__(self) -> None:
        self.queries = []
        self.local_did = None

    @hookimpl
    def discover_remote_agents(self, app, query):
        self.queries.append(query)

        async def ask():
            await asyncio.sleep(0)
            return RemoteResults(
                agents=[
                    remote_agent(
                        "Remote Scribe",
                        "did:agentvault:11111111-1111-4111-8111-111111111111",
                        "2099-01-01T00:00:00+00:00",
                    ),
                    remote_agent("Shadow Of Local", self.local_did, "2000-01-01T00:00:00+00:00"),
                ],
                peers=[
                    PeerStatus("Peer", "ok", 12.34),
                    PeerStatus("Slow Peer", "timeout", 2000.0, "no answer within 2 s"),
                ],
            )

        return ask()


class BrokenFederation:
    @hookimpl
    def discover_remote_agents(self, app, query):
        async def fail():
            raise RuntimeError("peer table unreadable")

        return fail()


async def test_without_federation_no_peer_is_asked(discovery_client):
    response = await discovery_client.get(f"{SEARCH}?include_federated=true")
    status = (await response.json())["federation_status"]
    assert status["requested"] is True
    assert status["peers_queried"] == 0 and status["peers"] == []


async def test_remote_agents_are_merged_once_and_labelled(aiohttp_client, make_app):
    federation = FakeFederation()
    client = await aiohttp_client(make_app(app_overrides(), plugins=[("fake_fed", federation)]))
    headers, _ = await account(client, "alice")
    created = await client.post(
        "/api/v1/agents",
        json={
            "name": "Local Scribe",
            "description": "Writes things down.",
            "apiEndpoints": ["https://scribe.example.net/a2a"],
            "capabilities": ["write"],
        },
        headers=headers,
    )
    federation.local_did = (await created.json())["did"]
    plain = await (await client.get(f"{SEARCH}?capabilities=write")).json()
    assert names(plain) == ["Local Scribe"] and federation.queries == []

    response = await client.get(f"{SEARCH}?capabilities=write&include_federated=true&q=scribe")
    document = await response.json()
    [query] = federation.queries
    assert query.text == "scribe"
    assert query.filters == {"capabilities": {"any": ["write"]}}
    assert query.sort == "relevance" and query.limit == 20
    assert names(document) == ["Local Scribe", "Remote Scribe"]
    local, remote = document["agents"]
    assert local["is_federated"] is False and remote["is_federated"] is True
    assert remote["origin_registry_name"] == "Peer"
    status = document["federation_status"]
    assert status["peers_queried"] == 2 and status["peers_responded"] == 1
    assert status["peers"][1] == {
        "name": "Slow Peer",
        "status": "timeout",
        "latency_ms": 2000.0,
        "error": "no answer within 2 s",
        "cached": False,
    }

    by_date = await (await client.get(f"{SEARCH}?capabilities=write&include_federated=true")).json()
    assert names(by_date) == ["Remote Scribe", "Local Scribe"]


async def test_fields_pages_and_sizes_with_remote_agents(aiohttp_client, make_app):
    federation = FakeFederation()
    client = await aiohttp_client(make_app(app_overrides(), plugins=[("fake_fed", federation)]))
    headers, _ = await account(client, "alice")
    for number in range(3):
        await client.post(
            "/api/v1/agents",
            json={
                "name": f"Local {number}",
                "description": "Local.",
                "apiEndpoints": [f"https://local{number}.example.net/a2a"],
                "capabilities": ["write"],
            },
            headers=headers,
        )
    federation.local_did = "did:agentvault:00000000-0000-4000-8000-000000000000"
    narrowed = await (
        await client.get(f"{SEARCH}?include_federated=true&fields=name&per_page=2")
    ).json()
    # Newest first: the remote agent dated 2099, the two newest local ones; at most
    # per_page remote agents beside the local page, fields picked after merging.
    assert narrowed["agents"] == [
        {"name": "Remote Scribe"},
        {"name": "Local 2"},
        {"name": "Local 1"},
        {"name": "Shadow Of Local"},
    ]
    asked = len(federation.queries)
    second = await (
        await client.get(
            f"{SEARCH}?include_federated=true&per_page=2&cursor="
            + narrowed["pagination"]["next_cursor"]
        )
    ).json()
    assert names(second) == ["Local 0"]
    assert len(federation.queries) == asked  # later pages are local: no peer is asked
    assert second["federation_status"]["peers_queried"] == 0


class RaisingFederation:
    @hookimpl
    def discover_remote_agents(self, app, query):
        raise RuntimeError("raised before returning anything")


async def test_a_federation_hook_that_raises_leaves_local_results(aiohttp_client, make_app):
    client = await aiohttp_client(
        make_app(app_overrides(), plugins=[("raising_fed", RaisingFederation())])
    )
    response = await client.get(f"{SEARCH}?include_federated=true")
    assert response.status == 200


async def test_a_failing_federation_plugin_leaves_local_results(aiohttp_client, make_app):
    client = await aiohttp_client(
        make_app(app_overrides(), plugins=[("broken_fed", BrokenFederation())])
    )
    response = await client.get(f"{SEARCH}?include_federated=true")
    assert response.status == 200
    assert (await response.json())["federation_status"]["peers_queried"] == 0


# --------------------------------------------------------------------------- templates


class ExtraTemplates:
    def __init__(self, template):
        self.template = template

    @hookimpl
    def register_agent_templates(self, settings):
        return [self.template]


async def test_every_template_registers_as_is(discovery_client):
    headers, _ = await account(discovery_client, "dora")
    response = await discovery_client.get("/api/v1/discovery/templates")
    assert response.status == 200
    templates = (await response.json())["templates"]
    assert {template["agent_type"] for template in templates} >= {
        "assistant",
        "tool",
        "orchestrator",
    }
    for template in templates:
        created = await discovery_client.post(
            "/api/v1/agents", json=template["body"], headers=headers
        )
        assert created.status == 201, (template["id"], await created.text())
        agent = await created.json()
        assert agent["agentType"] == template["agent_type"]


async def test_templates_filter_by_type_and_revalidate(discovery_client):
    response = await discovery_client.get("/api/v1/discovery/templates?agent_type=tool")
    templates = (await response.json())["templates"]
    assert [template["id"] for template in templates] == ["tool-service"]
    again = await discovery_client.get(
        "/api/v1/discovery/templates?agent_type=tool",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status == 304


async def test_plugins_add_templates(aiohttp_client, make_app):
    template = {
        "id": "echo",
        "agent_type": "echo",
        "title": "Echo",
        "description": "Repeats what it hears.",
        "body": {
            "name": "Echo",
            "description": "Echoes.",
            "agentType": "echo",
            "apiEndpoints": ["https://echo.example.net/a2a"],
        },
    }
    client = await aiohttp_client(
        make_app(app_overrides(), plugins=[("echo_templates", ExtraTemplates(template))])
    )
    response = await client.get("/api/v1/discovery/templates?agent_type=echo")
    assert (await response.json())["templates"] == [template]


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        (
            {
                "id": "tool-service",
                "agent_type": "x",
                "title": "t",
                "description": "d",
                "body": {
                    "name": "n",
                    "description": "d",
                    "apiEndpoints": ["https://a.example.net"],
                },
            },
            "Two agent templates",
        ),
        (
            {
                "id": "bad-card",
                "agent_type": "x",
                "title": "t",
                "description": "d",
                "body": {"card": {"name": "no skills"}},
            },
            "bad-card",
        ),
        (
            {
                "id": "bad-body",
                "agent_type": "x",
                "title": "t",
                "description": "d",
                "body": {"colour": "blue"},
            },
            "bad-body",
        ),
        ({"id": "incomplete"}, "incomplete"),
    ],
)
def test_a_broken_template_is_refused(template, problem):
    """Startup checks every template with this (a broken one stops the registry)."""
    with pytest.raises(TemplateError, match=problem):
        checked_templates([*builtin_templates(), template])
