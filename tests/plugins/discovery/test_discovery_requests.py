"""Bad input, caching and validators of the discovery endpoints."""

from __future__ import annotations

import base64
import io
import json

import pytest
from discovery_helpers import account, app_overrides, names

from agentvault_registry.core.appkeys import STORAGE

SEARCH = "/api/v1/discovery/agents"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("q=" + "x" * 257, "q"),
        ("capabilities=" + ",".join(f"c{index}" for index in range(21)), "capabilities"),
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("page=200&per_page=100", "page"),
        ("sort=relevance", "sort"),
        ("sort=popularity", "sort"),
        ("capability_match=some", "capability_match"),
        ("streaming=maybe", "streaming"),
        ("security_scheme=basic", "security_scheme"),
        ("input_mode=plain", "input_mode"),
        ("status=deleted", "status"),
        ("fields=id,password", "fields"),
        ("colour=blue", "colour"),
        ("q=a%00b", "q"),
        ("tags=" + "t" * 101, "tags"),
    ],
)
async def test_out_of_range_queries_are_refused(discovery_client, query, field):
    response = await discovery_client.get(f"{SEARCH}?{query}")
    assert response.status == 422, await response.text()
    body = await response.json()
    assert body["error"] == "validation_failed"
    assert field in body["details"]


@pytest.mark.parametrize(
    "q",
    [
        '"unbalanced',
        "NEAR(a b)",
        "name:x",
        "a* OR b",
        "((",
        "-not",
        "^caret",
        "\u202e\u0000"[:1],
        "🦜🦜",
        "a" * 256,
        "AND OR NOT",
        "col : * ^ \" '",
    ],
)
async def test_search_syntax_never_reaches_the_engine(discovery_client, fleet, q):
    response = await discovery_client.get(SEARCH, params={"q": q})
    assert response.status == 200, await response.text()


def _cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        _cursor(["name", "Echo", "00000000-0000-0000-0000-000000000001"]),
        _cursor(["created_at", "2026-01-01T00:00:00", "00000000-0000-0000-0000-000000000001"]),
        _cursor(["created_at", "2026-01-01T00:00:00+00:00", "not-an-id"]),
        _cursor(
            ["created_at", "0001-01-01T00:00:00+05:00", "00000000-0000-0000-0000-000000000001"]
        ),
        _cursor(["relevance", 5]),
        _cursor({"sort": "created_at"}),
        _cursor([]),
    ],
)
async def test_foreign_cursors_are_refused(discovery_client, cursor):
    response = await discovery_client.get(SEARCH, params={"cursor": cursor})
    assert response.status == 400, await response.text()
    assert (await response.json())["error"] == "bad_request"


async def test_a_cursor_and_a_page_number_do_not_mix(discovery_client):
    cursor = _cursor(
        ["created_at", "2026-01-01T00:00:00+00:00", "00000000-0000-0000-0000-000000000001"]
    )
    response = await discovery_client.get(SEARCH, params={"cursor": cursor, "page": "2"})
    assert response.status == 422


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{", 400),
        (b"", 400),
        (b"[]", 422),
        (b'{"filters": {"colour": ["blue"]}}', 422),
        (b'{"filters": {"capabilities": "translate"}}', 422),
        (b'{"filters": {"capabilities": {"some": ["a"]}}}', 422),
        (b'{"filters": {"streaming": "yes"}}', 422),
        (b'{"filters": {"tags": "weather"}}', 422),
        (b'{"filters": {"tags": [1, 2]}}', 422),
        (b'{"q": 5}', 422),
        (b'{"per_page": 1000}', 422),
        (b'{"fields": ["id", "secret"]}', 422),
        (b'{"sort": "relevance"}', 422),
    ],
)
async def test_malformed_json_searches_are_refused(discovery_client, body, status):
    response = await discovery_client.post(
        "/api/v1/discovery/search", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == status, await response.text()
    assert "error" in await response.json()


async def test_oversized_and_non_json_bodies_are_refused(discovery_client):
    huge = json.dumps({"q": "x", "filters": {"tags": ["t" * 100] * 20_000}}).encode()
    too_large = await discovery_client.post(
        "/api/v1/discovery/search",
        data=io.BytesIO(huge),
        headers={"Content-Type": "application/json", "Content-Length": str(len(huge))},
    )
    assert too_large.status == 413
    as_form = await discovery_client.post("/api/v1/discovery/search", data="q=x")
    assert as_form.status == 415


async def test_an_answer_carries_an_etag_and_revalidates(discovery_client, fleet):
    first = await discovery_client.get(f"{SEARCH}?capabilities=translate")
    etag = first.headers["ETag"]
    again = await discovery_client.get(
        f"{SEARCH}?capabilities=translate", headers={"If-None-Match": etag}
    )
    assert again.status == 304
    assert again.headers["ETag"] == etag


async def test_a_change_is_seen_at_once_despite_the_cache(discovery_client, fleet):
    before = await (await discovery_client.get(f"{SEARCH}?capabilities=translate")).json()
    response = await discovery_client.post(
        "/api/v1/agents",
        json={
            "name": "Second Translator",
            "description": "Another translator.",
            "apiEndpoints": ["https://second.example.net/a2a"],
            "capabilities": ["translate"],
        },
        headers=fleet.headers["alice"],
    )
    assert response.status == 201
    after = await (await discovery_client.get(f"{SEARCH}?capabilities=translate")).json()
    assert len(names(after)) == len(names(before)) + 1
    counts = await (await discovery_client.get("/api/v1/discovery/capabilities")).json()
    assert {"capability": "translate", "count": 3} in counts["capabilities"]


async def test_the_cache_answers_repeated_searches(discovery_client, fleet, monkeypatch):
    backend = discovery_client.app[STORAGE].records
    calls = []
    original = backend.search_agents

    async def counted(*args, **kwargs):
        calls.append(args)
        return await original(*args, **kwargs)

    monkeypatch.setattr(backend, "search_agents", counted)
    for _ in range(3):
        response = await discovery_client.get(f"{SEARCH}?q=journeys")
        assert names(await response.json()) == ["Travel Planner"]
    assert len(calls) == 1


async def test_capabilities_are_counted_and_narrowed(discovery_client, fleet):
    response = await discovery_client.get("/api/v1/discovery/capabilities")
    assert response.status == 200
    body = await response.json()
    assert body["counts_exact"] is True
    assert body["capabilities"][0] == {"capability": "translate", "count": 2}
    assert {item["capability"] for item in body["capabilities"]} == {
        "translate",
        "extract-tables",
        "pdf",
        "plan-trip",
        "forecast",
    }
    narrowed = await (
        await discovery_client.get("/api/v1/discovery/capabilities?streaming=false&limit=10")
    ).json()
    assert {item["capability"] for item in narrowed["capabilities"]} == {
        "extract-tables",
        "pdf",
        "forecast",
    }
    inactive = await (
        await discovery_client.get("/api/v1/discovery/capabilities?status=inactive")
    ).json()
    assert inactive["capabilities"] == [{"capability": "review-code", "count": 1}]
    limited = await (await discovery_client.get("/api/v1/discovery/capabilities?limit=1")).json()
    assert len(limited["capabilities"]) == 1
    refused = await discovery_client.get("/api/v1/discovery/capabilities?limit=0")
    assert refused.status == 422


async def test_searches_are_rate_limited(aiohttp_client, make_app):
    overrides = app_overrides()
    overrides["rate_limits"]["discovery.search"] = "3/minute"
    client = await aiohttp_client(make_app(overrides))
    statuses = [(await client.get(SEARCH)).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = await client.get(SEARCH)
    assert "Retry-After" in refused.headers


async def test_searching_needs_no_account_but_accepts_one(discovery_client, fleet):
    headers, _ = await account(discovery_client, "carol")
    signed_in = await discovery_client.get(SEARCH, headers=headers)
    assert signed_in.status == 200
    # Credentials that do not hold are refused even where none are needed: a client must
    # learn that its token is bad rather than silently searching as anonymous.
    token = headers["Authorization"].removeprefix("Bearer ")
    header, payload, _ = token.split(".")
    forged = await discovery_client.get(
        SEARCH, headers={"Authorization": f"Bearer {header}.{payload}.c2lnbmF0dXJl"}
    )
    assert forged.status == 401


@pytest.mark.parametrize(
    "query",
    [
        "cursor=garbage",
        "page=2",
        "per_page=5",
        "facets=true",
        "include_federated=true",
        "sort=name",
        "fields=name",
    ],
)
async def test_capabilities_refuse_what_only_searches_take(discovery_client, query):
    response = await discovery_client.get(f"/api/v1/discovery/capabilities?{query}")
    assert response.status == 422, await response.text()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fields": []}, "fields"),
        (
            {
                "filters": {
                    "capabilities": {
                        "any": [f"a{i}" for i in range(15)],
                        "all": [f"b{i}" for i in range(6)],
                    }
                }
            },
            "filters",
        ),
    ],
)
async def test_empty_field_lists_and_too_many_capabilities_are_refused(
    discovery_client, body, field
):
    response = await discovery_client.post("/api/v1/discovery/search", json=body)
    assert response.status == 422, await response.text()
    assert field in (await response.json())["details"]
    empty = await discovery_client.get(f"{SEARCH}?fields=")
    assert empty.status == 422


async def test_if_none_match_takes_lists_weak_tags_and_star(discovery_client, fleet):
    etag = (await discovery_client.get(SEARCH)).headers["ETag"]
    for header in (f'"other", {etag}', f"W/{etag}", "*"):
        response = await discovery_client.get(SEARCH, headers={"If-None-Match": header})
        assert response.status == 304, header
    posted = await discovery_client.post(
        "/api/v1/discovery/search", json={}, headers={"If-None-Match": etag}
    )
    assert posted.status == 200
    assert posted.headers["Cache-Control"] == "no-cache"
