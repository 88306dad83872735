"""How the fan-out treats peers: what the public sees of a failure, peers that limit us,
the trial after a back-off, per-peer timeouts inside the deadline, and settings that change
after a peer was stored."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from aiohttp import web

from agentvault_registry.core.appkeys import BACKGROUND_TASKS, STORAGE
from agentvault_registry.plugins.discovery.remote import HOP_HEADER
from agentvault_registry.plugins.federation.appkeys import PEER_SERVICE
from agentvault_registry.storage_backends.federation import PeerRecord
from registry_harness import SEARCH, answering, failing, hanging, remote_agent


def status_of(document, name):
    return next(peer for peer in document["federation_status"]["peers"] if peer["name"] == name)


async def settled(registry) -> None:
    pending = list(registry.app[BACKGROUND_TASKS])
    if pending:
        await asyncio.gather(*pending)


async def test_a_search_carrying_the_hop_header_never_asks_peers(
    registry_factory, fake_peer_factory
):
    home = await registry_factory("Home")
    echo = await fake_peer_factory(answering(remote_agent("Elsewhere")))
    await home.add_peer("Echo", echo.url, "avf_echo")
    for request in (
        home.request(
            "GET", SEARCH, params={"include_federated": "true"}, headers={HOP_HEADER: "1"}
        ),
        home.request(
            "POST",
            "/api/v1/discovery/search",
            json={"include_federated": True},
            headers={HOP_HEADER: "1"},
        ),
    ):
        document = await (await request).json()
        assert document["federation_status"]["peers_queried"] == 0
    assert echo.hits == []


async def test_a_peer_limiting_us_is_skipped_without_counting_as_a_failure(
    registry_factory, fake_peer_factory
):
    home = await registry_factory(
        "Home", {"plugins": {"federation": {"failure_threshold": 1, "cache_ttl": 0}}}
    )

    async def limited(request):
        return web.json_response(
            {"error": "rate_limited"}, status=429, headers={"Retry-After": "30"}
        )

    busy = await fake_peer_factory(limited)
    created = await home.add_peer("Busy", busy.url, "avf_busy")
    for _ in range(3):
        status = status_of(await home.search(), "Busy")
        assert status["status"] == "skipped" and "HTTP 429" in status["error"]
    await settled(home)
    stored = await home.app[STORAGE].records.get_peer(created["id"])
    assert stored.status == "active" and stored.consecutive_failures == 0
    assert len(busy.hits) == 3


async def test_the_public_sees_a_fixed_reason_and_the_admin_the_detail(
    registry_factory, fake_peer_factory
):
    home = await registry_factory("Home")
    liar = await fake_peer_factory(answering({"id": "x", "did": "d", "name": "n", "tags": [7]}))
    await home.add_peer("Liar", liar.url, "avf_liar")
    public = status_of(await home.search(), "Liar")
    assert public["error"] == "the answer is not a federation answer"
    await settled(home)
    report = await home.json("GET", "/api/v1/admin/federation/status", headers=home.admin)
    assert report["peers"][0]["last_error"].startswith("the answer is not a federation answer: ")
    assert "tags" in report["peers"][0]["last_error"]


async def test_an_undecryptable_token_is_reported_without_naming_keys(registry_factory):
    home = await registry_factory("Home")
    created = await home.add_peer("Broken", "http://127.0.0.1:9", "avf_x")
    await home.app[STORAGE].records.update_peer(
        created["id"], {"outbound_token": "not-a-fernet-token"}, dt.datetime.now(dt.UTC)
    )
    public = status_of(await home.search(), "Broken")
    assert public["status"] == "error"
    assert public["error"] == "this registry's settings for the peer are not usable"
    await settled(home)
    report = await home.json("GET", "/api/v1/admin/federation/status", headers=home.admin)
    assert "set it again" in report["peers"][0]["last_error"]


async def test_after_the_backoff_exactly_one_of_concurrent_searches_tries_the_peer(
    registry_factory, fake_peer_factory
):
    home = await registry_factory(
        "Home",
        {"plugins": {"federation": {"failure_threshold": 1, "backoff": 0.3, "cache_ttl": 0}}},
    )
    flaky = await fake_peer_factory(failing)
    await home.add_peer("Flaky", flaky.url, "avf_flaky")
    await home.search()
    await settled(home)
    await asyncio.sleep(0.4)
    documents = await asyncio.gather(*(home.search(f"word{index}") for index in range(4)))
    statuses = sorted(status_of(document, "Flaky")["status"] for document in documents)
    assert statuses == ["error", "skipped", "skipped", "skipped"]
    assert len(flaky.hits) == 2


async def test_a_per_peer_timeout_inside_the_deadline_names_the_peer_timeout(
    registry_factory, fake_peer_factory
):
    home = await registry_factory(
        "Home", {"plugins": {"federation": {"peer_timeout": 0.3, "deadline": 1.0}}}
    )
    stuck = await fake_peer_factory(hanging)
    await home.add_peer("Stuck", stuck.url, "avf_stuck")
    document = await home.search()
    status = status_of(document, "Stuck")
    assert status["status"] == "timeout" and status["error"] == "no answer within 0.3 s"
    assert document["federation_status"]["query_time_ms"] < 1000


async def test_an_http_peer_stored_while_http_was_allowed_is_not_asked_once_it_is_not(
    registry_factory, fake_peer_factory
):
    home = await registry_factory(
        "Home", {"plugins": {"federation": {"allow_http": False, "allow_private_peers": True}}}
    )
    echo = await fake_peer_factory(answering(remote_agent("Elsewhere")))
    now = dt.datetime.now(dt.UTC)
    service = home.app[PEER_SERVICE]
    await home.app[STORAGE].records.add_peer(
        PeerRecord(
            id=str(uuid.uuid4()),
            name="Plain",
            registry_url=echo.url,
            admin_contact="ops@plain.example.org",
            status="active",
            outbound_token=service.cipher.encrypt("avf_plain"),
            inbound_token_digest="0" * 64,
            created_at=now,
            updated_at=now,
        )
    )
    status = status_of(await home.search(), "Plain")
    assert status["status"] == "error" and "http peers are not allowed" in status["error"]
    assert echo.hits == []
