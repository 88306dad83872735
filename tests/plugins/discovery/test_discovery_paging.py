"""Relevance, sort orders, page numbers and cursors."""

from __future__ import annotations

import asyncio
import datetime as dt

from discovery_helpers import account, names, synthetic_agent

from agentvault_registry.core.appkeys import STORAGE

WALK_SIZE = 1_000


async def test_a_name_match_outranks_a_keyword_match(discovery_client, fleet):
    response = await discovery_client.get("/api/v1/discovery/agents?q=translator")
    document = await response.json()
    # "Translator" stems like the capability "translate" of the Travel Planner.
    assert names(document) == ["Polyglot Translator", "Travel Planner"]


async def test_sorts_by_name_and_by_update(discovery_client, fleet):
    by_name = await discovery_client.get("/api/v1/discovery/agents?sort=name")
    assert names(await by_name.json()) == sorted(
        ["Polyglot Translator", "Invoice Reader", "Travel Planner", "Weather Oracle"]
    )
    touched = await discovery_client.patch(
        f"/api/v1/agents/{fleet.id_of('Invoice Reader')}",
        json={"tags": ["finance", "accounting"]},
        headers=fleet.headers["alice"],
    )
    assert touched.status == 200
    by_update = await discovery_client.get("/api/v1/discovery/agents?sort=updated_at")
    assert names(await by_update.json())[0] == "Invoice Reader"
    by_creation = await discovery_client.get("/api/v1/discovery/agents?sort=created_at")
    assert names(await by_creation.json()) == [
        "Weather Oracle",
        "Travel Planner",
        "Invoice Reader",
        "Polyglot Translator",
    ]


async def test_page_numbers_and_cursors_agree(discovery_client, fleet):
    first = await (await discovery_client.get("/api/v1/discovery/agents?per_page=3")).json()
    second = await (await discovery_client.get("/api/v1/discovery/agents?per_page=3&page=2")).json()
    by_cursor = await (
        await discovery_client.get(
            f"/api/v1/discovery/agents?per_page=3&cursor={first['pagination']['next_cursor']}"
        )
    ).json()
    assert len(first["agents"]) == 3
    assert names(second) == names(by_cursor) == ["Polyglot Translator"]
    assert first["pagination"]["pages"] == 2
    assert by_cursor["pagination"]["next_cursor"] is None


async def test_relevance_pages_continue_by_cursor(discovery_client, fleet):
    first = await (
        await discovery_client.get("/api/v1/discovery/agents?q=translate&per_page=1")
    ).json()
    cursor = first["pagination"]["next_cursor"]
    second = await (
        await discovery_client.get(
            f"/api/v1/discovery/agents?q=translate&per_page=1&cursor={cursor}"
        )
    ).json()
    assert {*names(first), *names(second)} == {"Polyglot Translator", "Travel Planner"}
    assert second["pagination"]["next_cursor"] is None


async def test_a_cursor_walk_sees_every_agent_once_while_agents_are_added(discovery_client):
    """1,000 agents walked 37 at a time by cursor while new ones are registered between
    pages: every original agent exactly once, in order, none of the newcomers (they sort
    before the walk's position)."""
    records = discovery_client.app[STORAGE].records
    headers, developer_id = await _developer(discovery_client)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    seeded = [
        synthetic_agent(number, developer_id, start + dt.timedelta(seconds=number))
        for number in range(WALK_SIZE)
    ]
    await records.import_agents(seeded)
    seen: list[str] = []
    cursor = None
    added = 0
    while True:
        query = "per_page=37&capabilities=bulk" + (f"&cursor={cursor}" if cursor else "")
        response = await discovery_client.get(f"/api/v1/discovery/agents?{query}")
        assert response.status == 200, await response.text()
        document = await response.json()
        seen += [agent["id"] for agent in document["agents"]]
        cursor = document["pagination"]["next_cursor"]
        if cursor is None:
            break
        if added < 10:
            await _register_bulk_like(discovery_client, headers, added)
            added += 1
    expected = [agent.id for agent in sorted(seeded, key=lambda a: a.created_at, reverse=True)]
    assert seen == expected
    assert added == 10


async def test_walks_by_name_see_each_agent_once(discovery_client):
    records = discovery_client.app[STORAGE].records
    _, developer_id = await _developer(discovery_client)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    seeded = [
        synthetic_agent(number, developer_id, start + dt.timedelta(seconds=number % 7))
        for number in range(120)
    ]
    await records.import_agents(seeded)
    seen: list[str] = []
    cursor = None
    while True:
        query = "per_page=25&sort=name" + (f"&cursor={cursor}" if cursor else "")
        document = await (await discovery_client.get(f"/api/v1/discovery/agents?{query}")).json()
        seen += names(document)
        cursor = document["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(agent.name for agent in seeded)


async def test_concurrent_searches_agree(discovery_client, fleet):
    responses = await asyncio.gather(
        *(discovery_client.get("/api/v1/discovery/agents?q=translate") for _ in range(10))
    )
    bodies = {await response.text() for response in responses}
    assert len(bodies) == 1


async def _developer(client) -> tuple[dict[str, str], str]:
    return await account(client, "walker")


async def _register_bulk_like(client, headers, number: int) -> None:
    response = await client.post(
        "/api/v1/agents",
        json={
            "name": f"Newcomer {number}",
            "description": "Registered during the walk.",
            "apiEndpoints": [f"https://newcomer{number}.example.net/a2a"],
            "capabilities": ["bulk"],
        },
        headers=headers,
    )
    assert response.status == 201, await response.text()


async def test_a_walk_by_long_non_latin_names_follows_every_cursor(discovery_client):
    headers, _ = await account(discovery_client, "yuri")
    for letter in "ЮЯЖ":
        created = await discovery_client.post(
            "/api/v1/agents",
            json={
                "name": letter * 200,
                "description": "A long name.",
                "apiEndpoints": ["https://long.example.net/a2a"],
            },
            headers=headers,
        )
        assert created.status == 201, await created.text()
    seen, cursor = [], None
    while True:
        query = "sort=name&per_page=1" + (f"&cursor={cursor}" if cursor else "")
        response = await discovery_client.get(f"/api/v1/discovery/agents?{query}")
        assert response.status == 200, await response.text()
        document = await response.json()
        seen += [name[0] for name in names(document)]
        cursor = document["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Ж", "Ю", "Я"]
