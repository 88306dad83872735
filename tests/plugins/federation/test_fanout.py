"""Federated searches across real registries on loopback: merged, deduplicated, labelled and
ordered; misbehaving peers cost at most the timeout and are named; loops cost one hop."""

from __future__ import annotations

import asyncio
import time
import tracemalloc

import pytest

from agentvault_registry.core.appkeys import BACKGROUND_TASKS, STORAGE
from registry_harness import (
    PEERS,
    answering,
    failing,
    hanging,
    huge_body,
    not_json,
    peer_both_ways,
    peer_with,
    redirecting_inside,
    remote_agent,
)
from support import free_port

TIMEOUT = 1.0
FAST = {"plugins": {"federation": {"peer_timeout": TIMEOUT, "deadline": TIMEOUT}}}


def names(document):
    return [agent["name"] for agent in document["agents"]]


def peer_statuses(document):
    return {peer["name"]: peer for peer in document["federation_status"]["peers"]}


@pytest.fixture
async def network(registry_factory, fake_peer_factory, records_overrides):
    """Home (on each records backend) peering with two real registries and a fake one whose
    agents repeat a DID listed at home and one listed by the first real peer."""
    home = await registry_factory("Home", {"storage": records_overrides})
    alpha = await registry_factory("Alpha")
    beta = await registry_factory("Beta")
    developers = [await registry.account("dev") for registry in (home, alpha, beta)]
    local = await home.add_agent(developers[0], "Home Scribe", capabilities=["write"])
    alpha_agent = await alpha.add_agent(developers[1], "Alpha Scribe", capabilities=["write"])
    await beta.add_agent(developers[2], "Beta Scribe", capabilities=["write"])
    await beta.add_agent(developers[2], "Beta Accountant", capabilities=["bookkeeping"])
    echo = await fake_peer_factory(
        answering(
            remote_agent("Echo of Home", did=local["did"], capabilities=["write"]),
            remote_agent("Echo of Alpha", did=alpha_agent["did"], capabilities=["write"]),
            remote_agent("Gamma Scribe", capabilities=["write"]),
        )
    )
    for peer in (alpha, beta):
        await peer_with(home, peer)
    await home.add_peer("Gamma", echo.url, "avf_token_for_gamma")
    return home, alpha, beta, echo


async def test_a_federated_search_merges_local_and_remote_agents(network):
    home, alpha, beta, echo = network
    document = await home.search(capabilities="write", sort="name")
    # Local wins over a peer's copy of its DID; the first peer wins over a later one's.
    assert names(document) == ["Alpha Scribe", "Beta Scribe", "Gamma Scribe", "Home Scribe"]
    by_name = {agent["name"]: agent for agent in document["agents"]}
    assert by_name["Home Scribe"]["is_federated"] is False
    for name, registry_name, url in (
        ("Alpha Scribe", "Alpha", alpha.url),
        ("Beta Scribe", "Beta", beta.url),
        ("Gamma Scribe", "Gamma", echo.url),
    ):
        agent = by_name[name]
        assert agent["is_federated"] is True
        assert agent["origin_registry_name"] == registry_name and agent["registry_url"] == url
    status = document["federation_status"]
    assert status["requested"] is True
    assert status["peers_queried"] == 3 and status["peers_responded"] == 3
    assert [peer["status"] for peer in status["peers"]] == ["ok", "ok", "ok"]
    assert status["query_time_ms"] >= 0


async def test_the_peers_get_the_search_and_our_token(network):
    home, _, _, echo = network
    await home.search("scribe", capabilities="write")
    hit = echo.hits[-1]
    assert hit["headers"]["Authorization"] == "Bearer avf_token_for_gamma"
    assert hit["headers"]["X-AgentVault-Federation-Hop"] == "1"
    assert hit["body"]["search"] == "scribe"
    assert hit["body"]["filters"] == {"capabilities": {"any": ["write"]}}
    assert hit["body"]["limit"] == 20 and hit["body"]["offset"] == 0


async def test_merged_results_follow_the_requested_order(network):
    home, *_ = network
    newest = await home.search(capabilities="write", sort="created_at")
    stamps = [agent["createdAt"] for agent in newest["agents"]]
    assert stamps == sorted(stamps, reverse=True)
    assert names(newest)[-1] == "Gamma Scribe"  # its peer says 2026-01-01, before the others
    relevance = await home.search("scribe")
    assert relevance["agents"][0]["name"] == "Home Scribe"  # local first, then remote


async def test_filters_reach_the_peers(network):
    home, *_ = network
    document = await home.search(capabilities="bookkeeping")
    # The fake peer answers the same whatever it is asked; the real ones filter.
    real = [a["name"] for a in document["agents"] if a.get("origin_registry_name") != "Gamma"]
    assert real == ["Beta Accountant"]


async def test_without_include_federated_no_peer_is_asked(network):
    home, alpha, beta, echo = network
    before = alpha.inbound.count() + beta.inbound.count()
    document = await home.json("GET", "/api/v1/discovery/agents")
    assert names(document) == ["Home Scribe"]
    assert document["federation_status"]["peers_queried"] == 0
    assert alpha.inbound.count() + beta.inbound.count() == before and not echo.hits


async def test_answers_are_cached_per_peer_and_query(network):
    home, _, _, echo = network
    first = await home.search("scribe")
    assert not any(peer["cached"] for peer in first["federation_status"]["peers"])
    again = await home.search("scribe")
    assert len(echo.hits) == 1
    assert all(peer["cached"] for peer in again["federation_status"]["peers"])
    assert names(again) == names(first)
    await home.search("accountant")
    assert len(echo.hits) == 2


async def test_a_disabled_peer_is_not_asked(network):
    home, _, _, echo = network
    gamma = next(
        peer
        for peer in (await home.json("GET", PEERS, headers=home.admin))["peers"]
        if peer["name"] == "Gamma"
    )
    await home.json(
        "PUT", f"{PEERS}/{gamma['id']}", json={"status": "disabled"}, headers=home.admin
    )
    document = await home.search(capabilities="write")
    assert "Gamma" not in peer_statuses(document) and not echo.hits
    assert document["federation_status"]["peers_queried"] == 2


async def test_misbehaving_peers_cost_at_most_the_timeout_and_are_named(
    registry_factory, fake_peer_factory
):
    home = await registry_factory("Home", FAST)
    healthy = await registry_factory("Healthy")
    await healthy.add_agent(await healthy.account("dev"), "Healthy Scribe")
    await peer_with(home, healthy)
    peers = {
        "Hangs": (await fake_peer_factory(hanging)).url,
        "Refuses": f"http://127.0.0.1:{free_port()}",
        "Fails": (await fake_peer_factory(failing)).url,
        "Garbles": (await fake_peer_factory(not_json)).url,
        "Floods": (await fake_peer_factory(huge_body)).url,
        "Redirects": (await fake_peer_factory(redirecting_inside)).url,
        "Lies": (await fake_peer_factory(answering({"agents": "not a list"}))).url,
    }
    for name, url in peers.items():
        await home.add_peer(name, url, "avf_whatever")

    tracemalloc.start()
    started = time.perf_counter()
    document = await home.search()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert names(document) == ["Healthy Scribe"]
    status = document["federation_status"]
    assert status["peers_queried"] == 8 and status["peers_responded"] == 1
    assert status["query_time_ms"] <= (TIMEOUT + 0.1) * 1000
    # The client's clock also counts its own request and the local search: no hang.
    assert elapsed < TIMEOUT + 0.5
    # A 50 MB answer is never held: reading stops at the size cap (2 MiB).
    assert peak < 16 * 1024 * 1024
    by_name = peer_statuses(document)
    assert by_name["Healthy"]["status"] == "ok"
    assert by_name["Hangs"]["status"] == "timeout"
    expected_errors = {
        "Refuses": "could not connect",
        "Fails": "HTTP 500",
        "Garbles": "not valid JSON",
        "Floods": "larger than",
        "Redirects": "redirect",
        "Lies": "not a federation answer",
    }
    for name, fragment in expected_errors.items():
        assert by_name[name]["status"] == "error", by_name[name]
        assert fragment in by_name[name]["error"], by_name[name]
    assert "169.254.169.254" not in str(document)


async def test_a_loop_of_three_registries_costs_one_hop(registry_factory):
    a = await registry_factory("A")
    b = await registry_factory("B")
    c = await registry_factory("C")
    for first, second in ((a, b), (b, c), (c, a)):
        await peer_both_ways(first, second)
    for registry in (a, b, c):
        await registry.add_agent(await registry.account("dev"), f"Agent of {registry.name}")

    document = await a.search()
    assert sorted(names(document)) == ["Agent of A", "Agent of B", "Agent of C"]
    assert [a.inbound.count(), b.inbound.count(), c.inbound.count()] == [0, 1, 1]
    await asyncio.sleep(0.1)  # nothing was passed on in the background either
    assert [a.inbound.count(), b.inbound.count(), c.inbound.count()] == [0, 1, 1]


async def test_a_failing_peer_is_skipped_for_the_backoff_then_tried_again(
    registry_factory, fake_peer_factory
):
    home = await registry_factory(
        "Home",
        {"plugins": {"federation": {"failure_threshold": 2, "backoff": 0.5, "cache_ttl": 0}}},
    )
    behaviour = {"current": failing}

    async def switchable(request):
        return await behaviour["current"](request)

    flaky = await fake_peer_factory(switchable)
    created = await home.add_peer("Flaky", flaky.url, "avf_flaky")
    records = home.app[STORAGE].records

    for _ in range(2):
        assert peer_statuses(await home.search())["Flaky"]["status"] == "error"
        await _settled(home)
    assert (await records.get_peer(created["id"])).status == "unhealthy"
    skipped = peer_statuses(await home.search())["Flaky"]
    assert skipped["status"] == "skipped" and "failing" in skipped["error"]
    assert len(flaky.hits) == 2
    report = await home.json("GET", "/api/v1/admin/federation/status", headers=home.admin)
    assert report["peers"][0]["circuit"] == "open" and report["peers"][0]["retry_at"]
    assert report["peers"][0]["last_error"] == "the server answered HTTP 500"
    assert report["counts"]["unhealthy"] == 1

    await asyncio.sleep(0.6)
    behaviour["current"] = answering(remote_agent("Flaky Scribe"))
    recovered = await home.search()
    assert peer_statuses(recovered)["Flaky"]["status"] == "ok"
    assert names(recovered) == ["Flaky Scribe"]
    await _settled(home)
    peer = await records.get_peer(created["id"])
    assert peer.status == "active" and peer.consecutive_failures == 0
    assert peer.last_seen_at is not None and peer.last_latency_ms is not None


async def _settled(registry) -> None:
    """Until the health bookkeeping the last search started in the background is written."""
    pending = list(registry.app[BACKGROUND_TASKS])
    if pending:
        await asyncio.gather(*pending)
