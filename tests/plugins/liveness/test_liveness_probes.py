"""Probing one agent's origin, seen through ``GET/POST /agents/{id}/health``: agents that are
up, down, slow, serving a changed card or answering 304, and the uptime of a mix of them, on
SQLite and PostgreSQL."""

from __future__ import annotations

from liveness_helpers import (
    AGENTS,
    CARD_PATH,
    LEGACY_CARD_PATH,
    card_at,
    check,
    developer,
    health,
    register,
    register_at,
)

from support import free_port

HEALTH_FIELDS = {"status", "last_checked_at", "uptime_7d", "latency_ms", "card_drift"}


async def test_an_agent_never_probed_is_unknown(liveness_client, origins):
    client = liveness_client
    agent = await register_at(client, await developer(client, "ada"), await origins())
    assert await health(client, agent["id"]) == {
        "agent_id": agent["id"],
        "status": "unknown",
        "last_checked_at": None,
        "uptime_7d": None,
        "latency_ms": None,
        "card_drift": None,
        "http_status": None,
        "card_url": None,
        "consecutive_failures": 0,
        "last_reachable_at": None,
        "error": None,
    }


async def test_an_agent_serving_its_card_is_healthy(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins()
    agent = await register_at(client, ada, origin)
    origin.card = card_at(origin.url)

    report = await check(client, agent["id"], ada)

    assert set(report) >= HEALTH_FIELDS
    assert report["status"] == "healthy"
    assert (report["http_status"], report["uptime_7d"], report["card_drift"]) == (200, 1.0, False)
    assert report["latency_ms"] >= 0
    assert report["card_url"] == f"{origin.url}{CARD_PATH}"
    assert report["last_checked_at"] and report["last_reachable_at"] == report["last_checked_at"]
    assert report["error"] is None
    assert await health(client, agent["id"]) == report
    # The probe changed nothing the developer owns: same version, no new event.
    read = await client.get(f"{AGENTS}/{agent['id']}")
    assert read.headers["ETag"] == f'"{agent["id"]}.1"'
    assert (await read.json())["updatedAt"] == agent["updatedAt"]


async def test_the_older_well_known_name_answers_and_is_asked_first_next_time(
    liveness_client, origins
):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins(card_path=LEGACY_CARD_PATH)
    agent = await register_at(client, ada, origin)
    origin.card = card_at(origin.url)

    first = await check(client, agent["id"], ada)
    second = await check(client, agent["id"], ada)

    assert [first["status"], second["status"]] == ["healthy", "healthy"]
    assert first["card_url"] == f"{origin.url}{LEGACY_CARD_PATH}"
    assert [seen.path for seen in origin.seen] == [CARD_PATH, LEGACY_CARD_PATH, LEGACY_CARD_PATH]


async def test_an_agent_at_a_closed_port_is_unreachable(liveness_client):
    client = liveness_client
    ada = await developer(client, "ada")
    agent = await register(client, ada, card=card_at(f"http://127.0.0.1:{free_port()}"))

    report = await check(client, agent["id"], ada)

    assert report["status"] == "unreachable"
    assert (report["http_status"], report["latency_ms"], report["card_drift"]) == (None,) * 3
    assert (report["uptime_7d"], report["consecutive_failures"]) == (0.0, 1)
    assert report["last_reachable_at"] is None
    assert "could not connect" in report["error"]


async def test_an_agent_answering_after_the_timeout_is_unreachable(liveness_app, origins):
    client = await liveness_app(request_timeout=0.5, slow_threshold=0.25)
    ada = await developer(client, "ada")
    origin = await origins(hanging=True)
    agent = await register_at(client, ada, origin)

    report = await check(client, agent["id"], ada)

    assert report["status"] == "unreachable"
    assert report["http_status"] is None
    assert "within 0.5 seconds" in report["error"]
    assert len(origin.seen) == 1


async def test_an_agent_slower_than_the_threshold_is_degraded(liveness_app, origins):
    client = await liveness_app(slow_threshold=0.1, request_timeout=5.0)
    ada = await developer(client, "ada")
    origin = await origins(delay=0.3)
    agent = await register_at(client, ada, origin)
    origin.card = card_at(origin.url)

    report = await check(client, agent["id"], ada)

    assert report["status"] == "degraded"
    assert (report["http_status"], report["uptime_7d"], report["card_drift"]) == (200, 1.0, False)
    assert report["latency_ms"] > 100
    assert "over 100 ms" in report["error"]


async def test_an_error_status_is_degraded_but_counts_as_up(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins(status=503)
    agent = await register_at(client, ada, origin)

    report = await check(client, agent["id"], ada)

    assert report["status"] == "degraded"
    assert (report["http_status"], report["uptime_7d"], report["card_drift"]) == (503, 1.0, None)
    assert "HTTP 503" in report["error"]


async def test_no_card_at_either_path_is_degraded(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins()
    agent = await register_at(client, ada, origin)

    report = await check(client, agent["id"], ada)

    assert (report["status"], report["http_status"]) == ("degraded", 404)
    assert [seen.path for seen in origin.seen] == [CARD_PATH, LEGACY_CARD_PATH]


async def test_a_served_document_that_is_no_card_is_degraded_without_drift(
    liveness_client, origins
):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins()
    agent = await register_at(client, ada, origin)
    origin.card = {"hello": "world"}

    report = await check(client, agent["id"], ada)

    assert (report["status"], report["http_status"], report["card_drift"]) == (
        "degraded",
        200,
        None,
    )
    assert report["error"] == "the served card is not a usable A2A card"


async def test_a_card_changed_at_the_origin_is_drift(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins()
    agent = await register_at(client, ada, origin)
    origin.card = card_at(origin.url)
    assert (await check(client, agent["id"], ada))["card_drift"] is False

    origin.card = card_at(origin.url, description="Now translates poetry too.")
    report = await check(client, agent["id"], ada)

    # Drift is news about the card, not about whether the agent answers.
    assert (report["status"], report["card_drift"]) == ("healthy", True)


async def test_an_agent_whose_card_the_registry_derives_has_no_drift(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins()
    agent = await register(
        client,
        ada,
        name="Plain",
        description="Registered without a card.",
        apiEndpoints=[f"{origin.url}/a2a"],
    )
    origin.card = card_at(origin.url)

    report = await check(client, agent["id"], ada)

    assert (report["status"], report["card_drift"]) == ("healthy", None)


async def test_a_304_to_the_etag_keeps_the_card_as_it_was(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins(etag='"card-v1"')
    agent = await register_at(client, ada, origin)
    origin.card = card_at(origin.url)

    first = await check(client, agent["id"], ada)
    second = await check(client, agent["id"], ada)

    assert [seen.if_none_match for seen in origin.seen] == [None, '"card-v1"']
    assert (first["http_status"], second["http_status"]) == (200, 304)
    assert (second["status"], second["card_drift"], second["uptime_7d"]) == ("healthy", False, 1.0)

    # A new card comes with a new ETag: the old one no longer matches, the card is read.
    origin.card, origin.etag = card_at(origin.url, description="Changed."), '"card-v2"'
    third = await check(client, agent["id"], ada)
    fourth = await check(client, agent["id"], ada)
    assert [seen.if_none_match for seen in origin.seen[2:]] == ['"card-v1"', '"card-v2"']
    assert (third["http_status"], third["card_drift"]) == (200, True)
    assert (fourth["http_status"], fourth["card_drift"]) == (304, True)


async def test_uptime_is_the_share_of_probes_answered(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins()
    agent = await register_at(client, ada, origin)
    origin.card = card_at(origin.url)

    reports = [await check(client, agent["id"], ada) for _ in range(2)]
    await origin.stop()
    reports.append(await check(client, agent["id"], ada))
    await origin.start()
    reports.append(await check(client, agent["id"], ada))

    assert [report["status"] for report in reports] == [
        "healthy",
        "healthy",
        "unreachable",
        "healthy",
    ]
    assert [report["uptime_7d"] for report in reports] == [1.0, 1.0, 0.6667, 0.75]
    assert [report["consecutive_failures"] for report in reports] == [0, 0, 1, 0]
    assert reports[2]["last_reachable_at"] == reports[1]["last_checked_at"]
    assert reports[3]["last_reachable_at"] == reports[3]["last_checked_at"]


async def test_a_deleted_agent_has_no_health(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    agent = await register_at(client, ada, await origins())
    deleted = await client.delete(f"{AGENTS}/{agent['id']}", headers=ada)
    assert deleted.status == 204
    response = await client.get(f"{AGENTS}/{agent['id']}/health")
    assert response.status == 404
    assert (await response.json())["error"] == "not_found"


async def test_discovery_finds_agents_by_the_health_their_probe_found(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    up = await origins()
    up.card = card_at(up.url)
    healthy = await register_at(client, ada, up)
    down = await register(client, ada, card=card_at(f"http://127.0.0.1:{free_port()}"))
    for agent in (healthy, down):
        await check(client, agent["id"], ada)

    async def found(healthy_flag: str) -> list[str]:
        response = await client.get("/api/v1/discovery/agents", params={"healthy": healthy_flag})
        assert response.status == 200, await response.text()
        return [agent["id"] for agent in (await response.json())["agents"]]

    assert await found("true") == [healthy["id"]]
    assert await found("false") == [down["id"]]
    # The agent JSON carries the same health.
    shown = await (await client.get(f"{AGENTS}/{healthy['id']}")).json()
    assert shown["health"]["status"] == "healthy"
    assert shown["health"] == {
        key: value
        for key, value in (await health(client, healthy["id"])).items()
        if key in {*HEALTH_FIELDS, "http_status"}
    }
