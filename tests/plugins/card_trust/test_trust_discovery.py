"""Discovery by trust: healthy=/signed= filters, prefer= ranking and explain=true."""

from __future__ import annotations

import datetime as dt

import pytest
from card_keys import signed, trust_overrides

from agentvault_registry.core.appkeys import STORAGE
from support import sign_up

AGENTS = "/api/v1/agents"
SEARCH = "/api/v1/discovery/agents"


async def set_health(client, agent_id: str, status: str) -> None:
    now = dt.datetime.now(dt.UTC)
    health = {"status": status, "last_checked_at": now.isoformat()}
    stored = await client.app[STORAGE].records.set_agent_health(agent_id, health, now)
    assert stored is not None


@pytest.fixture
async def fleet(aiohttp_client, make_app, records_overrides, key_server, keys):
    """Five agents: Alpha signed and healthy, Bravo signed and unreachable, Charlie unsigned
    and healthy, Delta unsigned and never probed, Echo with a tampered signature."""
    client = await aiohttp_client(make_app(trust_overrides(storage=records_overrides)))
    ada = (await sign_up(client, "ada")).headers
    key = keys["EdDSA"]
    key_server.keys = [key.public_jwk]
    tampered = signed(key_server.card("Echo"), key)
    tampered["description"] = "Tampered with."
    cards = {
        "Alpha": signed(key_server.card("Alpha"), key),
        "Bravo": signed(key_server.card("Bravo"), key),
        "Charlie": key_server.card("Charlie"),
        "Delta": key_server.card("Delta"),
        "Echo": tampered,
    }
    ids = {}
    for name, card in cards.items():
        response = await client.post(AGENTS, json={"card": card}, headers=ada)
        assert response.status == 201, await response.text()
        ids[name] = (await response.json())["id"]
    await set_health(client, ids["Alpha"], "healthy")
    await set_health(client, ids["Bravo"], "unreachable")
    await set_health(client, ids["Charlie"], "healthy")
    return client, ids


async def names(client, **params) -> list[str]:
    response = await client.get(SEARCH, params={"sort": "name", **params})
    assert response.status == 200, await response.text()
    return [agent["name"] for agent in (await response.json())["agents"]]


async def test_filters_on_signature_and_health(fleet):
    client, _ = fleet
    assert await names(client, signed="true") == ["Alpha", "Bravo"]
    assert await names(client, signed="false") == ["Charlie", "Delta", "Echo"]
    assert await names(client, healthy="true") == ["Alpha", "Charlie"]
    assert await names(client, healthy="false") == ["Bravo", "Delta", "Echo"]
    assert await names(client, healthy="true", signed="true") == ["Alpha"]
    body = {"filters": {"healthy": True, "signed": False}, "sort": "name"}
    response = await client.post("/api/v1/discovery/search", json=body)
    assert response.status == 200, await response.text()
    assert [agent["name"] for agent in (await response.json())["agents"]] == ["Charlie"]


async def test_results_show_health_and_signature(fleet):
    client, _ = fleet
    document = await (await client.get(SEARCH, params={"sort": "name"})).json()
    by_name = {agent["name"]: agent for agent in document["agents"]}
    assert by_name["Alpha"]["signature"]["status"] == "valid"
    assert by_name["Echo"]["signature"]["status"] == "invalid"
    assert by_name["Bravo"]["health"]["status"] == "unreachable"
    assert by_name["Delta"]["health"] == {
        "status": "unknown",
        "last_checked_at": None,
        "uptime_7d": None,
        "latency_ms": None,
        "card_drift": None,
    }


async def test_prefer_ranks_healthy_then_signed_agents_first_and_pages_across_tiers(fleet):
    client, _ = fleet
    params = {"prefer": "healthy,signed", "sort": "name"}
    assert await names(client, **params) == ["Alpha", "Charlie", "Bravo", "Delta", "Echo"]
    assert await names(client, prefer="signed") == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    walked, cursor = [], None
    while True:
        query = {**params, "per_page": "2", **({"cursor": cursor} if cursor else {})}
        document = await (await client.get(SEARCH, params=query)).json()
        assert document["pagination"]["total"] == 5
        walked += [agent["name"] for agent in document["agents"]]
        cursor = document["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert walked == ["Alpha", "Charlie", "Bravo", "Delta", "Echo"]
    page_two = await (
        await client.get(SEARCH, params={**params, "per_page": "2", "page": "2"})
    ).json()
    assert [agent["name"] for agent in page_two["agents"]] == ["Bravo", "Delta"]
    # A cursor of another order is refused rather than followed.
    plain = await (await client.get(SEARCH, params={"sort": "name", "per_page": "2"})).json()
    mixed = await client.get(
        SEARCH, params={**params, "cursor": plain["pagination"]["next_cursor"]}
    )
    assert mixed.status == 400


async def test_explain_says_why_each_result_matched(fleet):
    client, _ = fleet
    params = {"q": "signed alpha", "healthy": "true", "explain": "true", "prefer": "signed"}
    document = await (await client.get(SEARCH, params=params)).json()
    [alpha] = document["agents"]
    explained = alpha["explain"]
    assert explained["matched_words"]["alpha"] == ["name"]
    assert "description" in explained["matched_words"]["signed"]
    assert explained["matched_filters"] == {"healthy": True}
    assert explained["health"] == "healthy"
    assert explained["signature"] == "valid"
    assert explained["preferred"] == ["signed"]
    assert explained["score"] > 0
    # Without explain=true, no explanation.
    plain = await (await client.get(SEARCH, params={"q": "alpha"})).json()
    assert "explain" not in plain["agents"][0]
    # fields= may pick it.
    picked = await (
        await client.get(SEARCH, params={"q": "alpha", "explain": "true", "fields": "id,explain"})
    ).json()
    assert set(picked["agents"][0]) == {"id", "explain"}


@pytest.mark.parametrize(
    "params",
    [
        {"prefer": "popular"},
        {"healthy": "maybe"},
        {"signed": "2"},
        {"explain": "sometimes"},
    ],
)
async def test_bad_trust_parameters_are_refused(fleet, params):
    client, _ = fleet
    response = await client.get(SEARCH, params=params)
    assert response.status == 422
    assert (await response.json())["error"] == "validation_failed"


@pytest.mark.parametrize(
    "body",
    [
        {"filters": {"healthy": "true"}},
        {"prefer": "healthy"},
        {"prefer": ["healthy", "fast"]},
        {"explain": 1},
    ],
)
async def test_bad_trust_parameters_in_a_body_are_refused(fleet, body):
    client, _ = fleet
    response = await client.post("/api/v1/discovery/search", json=body)
    assert response.status == 422
