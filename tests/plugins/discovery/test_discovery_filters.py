"""Every discovery filter, alone and combined, over a small fleet, through GET and POST."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from discovery_helpers import AUDIT_EXTENSION, card, names, skill

ACTIVE = {"Polyglot Translator", "Invoice Reader", "Travel Planner", "Weather Oracle"}

#: (query string parameters, the agents that must come back, as a set)
GET_CASES = [
    ({}, ACTIVE),
    ({"capabilities": "translate"}, {"Polyglot Translator", "Travel Planner"}),
    (
        {"capabilities": "translate,pdf"},
        {"Polyglot Translator", "Travel Planner", "Invoice Reader"},
    ),
    ({"capabilities": "translate,pdf", "capability_match": "all"}, set()),
    ({"capabilities": "translate,plan-trip", "capability_match": "all"}, {"Travel Planner"}),
    ({"agent_type": "tool"}, {"Invoice Reader"}),
    ({"agent_type": "tool,assistant"}, {"Invoice Reader", "Polyglot Translator"}),
    ({"status": "inactive"}, {"Code Reviewer"}),
    ({"status": "active,inactive"}, ACTIVE | {"Code Reviewer"}),
    ({"tags": "weather"}, {"Weather Oracle"}),
    ({"tags": "weather,travel"}, {"Weather Oracle", "Travel Planner"}),
    ({"verified": "true"}, {"Weather Oracle"}),
    ({"verified": "false"}, ACTIVE - {"Weather Oracle"}),
    ({"has_pricing": "true"}, {"Polyglot Translator", "Invoice Reader"}),
    ({"has_pricing": "false"}, {"Travel Planner", "Weather Oracle"}),
    ({"currency": "eur"}, {"Invoice Reader"}),
    ({"protocol_binding": "GRPC"}, {"Invoice Reader"}),
    ({"protocol_binding": "HTTP+JSON"}, {"Invoice Reader"}),
    ({"protocol_binding": "jsonrpc"}, {"Polyglot Translator", "Travel Planner", "Weather Oracle"}),
    ({"streaming": "true"}, {"Polyglot Translator", "Travel Planner"}),
    ({"streaming": "false"}, {"Invoice Reader", "Weather Oracle"}),
    ({"push_notifications": "true"}, {"Invoice Reader"}),
    ({"input_mode": "application/pdf"}, {"Invoice Reader"}),
    ({"output_mode": "text/html"}, {"Travel Planner"}),
    ({"output_mode": "Application/JSON"}, {"Invoice Reader"}),
    ({"security_scheme": "oauth2"}, {"Invoice Reader"}),
    ({"security_scheme": "APIKEY"}, {"Polyglot Translator"}),
    ({"security_scheme": "openIdConnect,mutualTLS"}, {"Travel Planner"}),
    ({"security_scheme": "http", "status": "inactive"}, {"Code Reviewer"}),
    ({"extension": AUDIT_EXTENSION}, {"Invoice Reader"}),
    ({"q": "journeys"}, {"Travel Planner"}),
    ({"q": "forecasts city"}, {"Weather Oracle"}),
    ({"q": "forecasts pdf"}, set()),
    ({"q": "phrasebook"}, {"Travel Planner"}),
    ({"q": "the of and"}, ACTIVE),
    ({"q": "translate", "streaming": "true", "security_scheme": "apiKey"}, {"Polyglot Translator"}),
    (
        {"q": "translate", "capabilities": "plan-trip", "protocol_binding": "JSONRPC"},
        {"Travel Planner"},
    ),
    (
        {"capabilities": "translate", "has_pricing": "false", "streaming": "true"},
        {"Travel Planner"},
    ),
]


async def test_each_filter_alone_and_combined(discovery_client, fleet):
    wrong = []
    for params, expected in GET_CASES:
        response = await discovery_client.get(f"/api/v1/discovery/agents?{urlencode(params)}")
        assert response.status == 200, (params, await response.text())
        document = await response.json()
        if set(names(document)) != expected or document["pagination"]["total"] != len(expected):
            wrong.append((params, sorted(expected), names(document)))
    assert wrong == []


async def test_the_developer_filter_names_an_owner(discovery_client, fleet):
    response = await discovery_client.get(
        f"/api/v1/discovery/agents?developer={fleet.user_ids['bob']}"
    )
    assert names(await response.json()) == ["Weather Oracle"]


async def test_a_deleted_agent_is_never_found(discovery_client, fleet):
    for params in ({"q": "ghost"}, {"capabilities": "translate"}, {"status": "active,inactive"}):
        response = await discovery_client.get(f"/api/v1/discovery/agents?{urlencode(params)}")
        assert "Ghost Translator" not in names(await response.json())


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"filters": {"capabilities": ["translate", "pdf"]}},
            {"Polyglot Translator", "Travel Planner", "Invoice Reader"},
        ),
        ({"filters": {"capabilities": {"all": ["translate", "plan-trip"]}}}, {"Travel Planner"}),
        (
            {"filters": {"capabilities": {"any": ["pdf", "plan-trip"], "all": ["translate"]}}},
            {"Travel Planner"},
        ),
        (
            {
                "q": "invoices",
                "filters": {"protocol_binding": ["grpc"], "push_notifications": True},
            },
            {"Invoice Reader"},
        ),
        (
            {"filters": {"status": ["inactive"], "security_scheme": ["mutualTLS"]}},
            {"Code Reviewer"},
        ),
        ({"filters": {}}, ACTIVE),
    ],
)
async def test_the_json_search_takes_the_same_filters(discovery_client, fleet, body, expected):
    response = await discovery_client.post("/api/v1/discovery/search", json=body)
    assert response.status == 200, await response.text()
    assert set(names(await response.json())) == expected


async def test_results_have_the_discovery_shape(discovery_client, fleet):
    response = await discovery_client.get("/api/v1/discovery/agents?q=invoices")
    document = await response.json()
    [agent] = document["agents"]
    assert agent["is_federated"] is False
    assert agent["registry_url"] == f"http://{discovery_client.host}:{discovery_client.port}"
    assert "origin_registry_name" not in agent
    assert agent["a2a"] == {
        "protocolBindings": ["GRPC", "HTTP+JSON"],
        "streaming": False,
        "pushNotifications": True,
        "inputModes": ["application/pdf"],
        "outputModes": ["application/json"],
        "securitySchemes": ["oauth2"],
        "extensions": [AUDIT_EXTENSION],
        "skills": ["Extract tables"],
    }
    assert agent["did"] == fleet.agents["Invoice Reader"]["did"]
    assert document["federation_status"] == {
        "requested": False,
        "peers_queried": 0,
        "peers_responded": 0,
        "query_time_ms": 0.0,
        "peers": [],
    }
    assert document["pagination"] == {
        "total": 1,
        "total_exact": True,
        "page": 1,
        "per_page": 20,
        "pages": 1,
        "next_cursor": None,
    }


async def test_fields_narrow_each_result(discovery_client, fleet):
    response = await discovery_client.get(
        "/api/v1/discovery/agents?capabilities=pdf&fields=name,a2a,is_federated"
    )
    [agent] = (await response.json())["agents"]
    assert set(agent) == {"name", "a2a", "is_federated"}


async def test_facets_count_types_bindings_and_schemes(discovery_client, fleet):
    response = await discovery_client.get("/api/v1/discovery/agents?facets=true")
    facets = (await response.json())["facets"]
    assert facets["exact"] is True
    assert {item["value"]: item["count"] for item in facets["protocol_binding"]} == {
        "JSONRPC": 3,
        "GRPC": 1,
        "HTTP+JSON": 1,
    }
    assert {item["value"]: item["count"] for item in facets["agent_type"]} == {
        "assistant": 1,
        "tool": 1,
        "orchestrator": 1,
        # An agent without a card or type gets the registry's default type.
        fleet.agents["Weather Oracle"]["agentType"]: 1,
    }
    assert {item["value"]: item["count"] for item in facets["security_scheme"]} == {
        "apiKey": 1,
        "oauth2": 1,
        "openIdConnect": 1,
    }
    narrowed = await discovery_client.get("/api/v1/discovery/agents?facets=true&streaming=true")
    facets = (await narrowed.json())["facets"]
    assert {item["value"]: item["count"] for item in facets["agent_type"]} == {
        "assistant": 1,
        "orchestrator": 1,
    }


async def test_custom_bindings_and_media_types_match_as_cards_spell_them(discovery_client, fleet):
    body = {
        "card": card(
            "Socket Speaker",
            "Talks over a custom transport.",
            skills=[skill("speak", "Speak", "voice")],
            bindings=("websocket", "json-rpc"),
            input_modes=("Application/PDF", "text/plain; charset=UTF-8"),
        )
    }
    created = await discovery_client.post(
        "/api/v1/agents", json=body, headers=fleet.headers["alice"]
    )
    assert created.status == 201, await created.text()
    for params in (
        {"protocol_binding": "websocket"},
        {"protocol_binding": "JSON-RPC"},
        {"input_mode": "application/pdf", "protocol_binding": "websocket"},
        {"input_mode": "TEXT/PLAIN;charset=utf-8"},
    ):
        response = await discovery_client.get(f"/api/v1/discovery/agents?{urlencode(params)}")
        assert "Socket Speaker" in names(await response.json()), params
    facets = await (
        await discovery_client.get("/api/v1/discovery/agents?facets=true&q=transport")
    ).json()
    assert {item["value"] for item in facets["facets"]["protocol_binding"]} == {
        "websocket",
        "JSONRPC",
    }
