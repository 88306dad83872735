"""What a peer may ask us: a search of our own agents and our change feed, with the token we
issued it, and nothing with any other credential."""

from __future__ import annotations

import pytest

from registry_harness import CHANGES, PEERS, QUERY, big_json


@pytest.fixture
async def home(registry_factory, records_overrides):
    home = await registry_factory("Home", {"storage": records_overrides})
    developer = await home.account("dev")
    await home.add_agent(
        developer, "Polyglot Translator", capabilities=["translate"], tags=["language"]
    )
    await home.add_agent(developer, "Ledger Keeper", capabilities=["bookkeeping"], tags=["finance"])
    await home.add_agent(developer, "Quiet Helper", status="inactive")
    return home


@pytest.fixture
async def peer_token(home):
    created = await home.add_peer("Caller", "http://127.0.0.1:9", "avf_outbound_unused_here")
    return {"Authorization": f"Bearer {created['inbound_token']}"}, created


async def test_a_peer_gets_our_active_agents_with_who_we_are(home, peer_token):
    headers, _ = peer_token
    answer = await home.json("POST", QUERY, json={}, headers=headers)
    assert sorted(agent["name"] for agent in answer["agents"]) == [
        "Ledger Keeper",
        "Polyglot Translator",
    ]
    assert answer["registry"] == {"name": "Home", "url": home.url}
    assert answer["total"] == 2 and answer["total_exact"] is True
    agent = answer["agents"][0]
    assert agent["is_federated"] is False and agent["registry_url"] == home.url
    assert agent["did"].startswith("did:agentvault:") and "a2a" in agent


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"search": "translator"}, ["Polyglot Translator"]),
        ({"tags": ["finance"]}, ["Ledger Keeper"]),
        ({"capabilities": ["translate", "bookkeeping"]}, ["Ledger Keeper", "Polyglot Translator"]),
        ({"filters": {"capabilities": {"all": ["translate"]}}}, ["Polyglot Translator"]),
        ({"active_only": False}, ["Ledger Keeper", "Polyglot Translator", "Quiet Helper"]),
        ({"filters": {"status": ["inactive"]}}, ["Quiet Helper"]),
        ({"search": "nothing-matches-this"}, []),
    ],
)
async def test_the_query_filters_as_discovery_does(home, peer_token, query, expected):
    headers, _ = peer_token
    answer = await home.json("POST", QUERY, json=query, headers=headers)
    assert sorted(agent["name"] for agent in answer["agents"]) == expected


async def test_limit_and_offset_page_through_the_matches(home, peer_token):
    headers, _ = peer_token
    query = {"sort": "name", "active_only": False}
    first = await home.json("POST", QUERY, json=query | {"limit": 2}, headers=headers)
    rest = await home.json("POST", QUERY, json=query | {"limit": 2, "offset": 2}, headers=headers)
    assert [a["name"] for a in first["agents"]] == ["Ledger Keeper", "Polyglot Translator"]
    assert [a["name"] for a in rest["agents"]] == ["Quiet Helper"]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 101},
        {"limit": 0},
        {"limit": "5"},
        {"offset": -1},
        {"offset": 10_001},
        {"active_only": "yes"},
        {"search": 5},
        {"search": "x" * 257},
        {"tags": "finance"},
        {"capabilities": {"any": "translate"}},
        {"capabilities": ["a"], "filters": {"capabilities": ["b"]}},
        {"sort": "popularity"},
        {"sort": "relevance"},
        {"filters": {"nonsense": ["x"]}},
        {"filters": []},
        {"include_federated": True},
    ],
)
async def test_bad_queries_are_422(home, peer_token, query):
    headers, _ = peer_token
    response = await home.request("POST", QUERY, json=query, headers=headers)
    assert response.status == 422, await response.text()
    assert (await response.json())["error"] == "validation_failed"


async def test_malformed_and_oversized_queries(home, peer_token):
    headers, _ = peer_token
    json_headers = headers | {"Content-Type": "application/json"}
    assert (await home.request("POST", QUERY, data=b"{", headers=json_headers)).status == 400
    assert (await home.request("POST", QUERY, data=b"[]", headers=json_headers)).status == 422
    big = big_json({"search": "x" * 3_000_000})
    huge = await home.request("POST", QUERY, data=big["data"], headers=headers | big["headers"])
    assert huge.status == 413


async def test_wrong_disabled_and_missing_tokens_are_401_alike(home, peer_token):
    headers, created = peer_token
    token = created["inbound_token"]
    wrong = {"Authorization": f"Bearer {token[:-4]}AAAA"}
    unknown = {"Authorization": "Bearer avf_" + "A" * 43}
    answers = {}
    for label, sent in (("wrong", wrong), ("unknown", unknown), ("missing", {})):
        response = await home.request("POST", QUERY, json={}, headers=sent)
        assert response.status == 401, label
        answers[label] = await response.json()
    await home.json(
        "PUT", f"{PEERS}/{created['id']}", json={"status": "disabled"}, headers=home.admin
    )
    disabled = await home.request("POST", QUERY, json={}, headers=headers)
    assert disabled.status == 401
    answers["disabled"] = await disabled.json()
    # Nothing tells a caller which tokens exist or which peers are disabled.
    assert answers["wrong"]["message"] == answers["unknown"]["message"]
    assert answers["disabled"]["message"] == answers["wrong"]["message"]
    for answer in answers.values():
        assert "agents" not in answer and "Caller" not in str(answer)
    for response in [await home.request("GET", CHANGES, headers=h) for h in (wrong, headers, {})]:
        assert response.status == 401


async def test_other_credentials_do_not_reach_the_federation_endpoints(home):
    developer = await home.account("someone")
    assert (await home.request("POST", QUERY, json={}, headers=developer)).status == 403
    assert (await home.request("POST", QUERY, json={}, headers=home.admin)).status == 403
    assert (await home.request("GET", CHANGES, headers=home.admin)).status == 403


async def test_queries_are_rate_limited_per_peer(registry_factory):
    home = await registry_factory("Home", {"rate_limits": {"federation.query": "3/minute"}})
    first = await home.add_peer("First", "http://127.0.0.1:9", "avf_x")
    second = await home.add_peer("Second", "http://127.0.0.1:10", "avf_y")
    as_first = {"Authorization": f"Bearer {first['inbound_token']}"}
    as_second = {"Authorization": f"Bearer {second['inbound_token']}"}
    statuses = [
        (await home.request("POST", QUERY, json={}, headers=as_first)).status for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    limited = await home.request("POST", QUERY, json={}, headers=as_first)
    assert int(limited.headers["Retry-After"]) > 0
    assert (await limited.json())["error"] == "rate_limited"
    assert (await home.request("POST", QUERY, json={}, headers=as_second)).status == 200


async def test_the_change_feed_is_served_to_peers_in_order(home, peer_token):
    headers, _ = peer_token
    feed = await home.json("GET", CHANGES, headers=headers)
    assert [change["type"] for change in feed["changes"]] == ["created"] * 3
    assert [change["agent"]["name"] for change in feed["changes"]] == [
        "Polyglot Translator",
        "Ledger Keeper",
        "Quiet Helper",
    ]
    seqs = [change["seq"] for change in feed["changes"]]
    assert seqs == sorted(seqs) and feed["next_cursor"] == str(seqs[-1])
    assert "card_blob_key" not in str(feed) and "version" not in feed["changes"][0]["agent"]
    after = await home.json("GET", CHANGES, params={"since": seqs[0], "limit": 1}, headers=headers)
    assert [change["seq"] for change in after["changes"]] == [seqs[1]]
    rest = await home.json("GET", CHANGES, params={"since": feed["next_cursor"]}, headers=headers)
    assert rest["changes"] == [] and rest["next_cursor"] == feed["next_cursor"]
    for params in ({"since": "-1"}, {"since": "x"}, {"limit": "0"}, {"limit": "501"}, {"x": "1"}):
        response = await home.request("GET", CHANGES, params=params, headers=headers)
        assert response.status == 422, params


async def test_repeated_bad_tokens_from_one_client_are_rate_limited(registry_factory):
    home = await registry_factory("Home", {"rate_limits": {"federation.auth_failures": "2/minute"}})
    created = await home.add_peer("Caller", "http://127.0.0.1:9", "avf_x")
    bad = {"Authorization": "Bearer avf_" + "B" * 43}
    statuses = [(await home.request("POST", QUERY, json={}, headers=bad)).status for _ in range(3)]
    assert statuses == [401, 401, 429]
    good = {"Authorization": f"Bearer {created['inbound_token']}"}
    # The client is out of tries for this window, whatever it presents now.
    assert (await home.request("POST", QUERY, json={}, headers=good)).status == 429


async def test_a_peer_token_opens_nothing_but_the_federation_endpoints(home, peer_token):
    headers, _ = peer_token
    for method, path in (
        ("GET", "/api/v1/auth/me"),
        ("POST", "/api/v1/agents"),
        ("GET", "/api/v1/auth/api-keys"),
        ("POST", "/api/v1/onboard/bootstrap/request-token"),
        ("GET", PEERS),
    ):
        response = await home.request(method, path, json={}, headers=headers)
        assert response.status in (401, 403), (method, path, response.status)
