"""GET /metrics: the counters move by what a scripted workload did, and only allowed scrapers
see them."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agentvault_registry.core.appkeys import AGENT_COUNTER, STORAGE
from agentvault_registry.core.errors import ConfigError
from support import ONBOARDING_LIMITS, fast_registry, self_onboarded, sign_up

AGENT = {
    "name": "Echo",
    "description": "Echoes what it is told.",
    "apiEndpoints": ["https://echo.example.com/a2a"],
    "capabilities": ["echo"],
}
SEARCH = "/api/v1/discovery/agents?q=echo"
#: The search limit the burst runs into: every search of the workload counts against it.
SEARCH_LIMIT = 4
TOKEN = "scrape-me-please-0123456789"


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _labels(key: tuple[str, frozenset]) -> tuple[str, dict]:
    return key[0], dict(key[1])


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


async def scrape(client, **headers: str) -> dict:
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return samples(await response.text())


def metrics_app(make_app, **extra):
    return make_app(
        fast_registry(
            ONBOARDING_LIMITS,
            rate_limits={"discovery.search": f"{SEARCH_LIMIT}/minute"},
            **extra,
        )
    )


async def test_a_workload_moves_each_counter_by_what_it_did(
    aiohttp_client, make_app, records_overrides
):
    client = await aiohttp_client(metrics_app(make_app, storage=records_overrides))
    client.app[AGENT_COUNTER].max_age = 0
    before = await scrape(client)

    ada = await sign_up(client, "ada")
    created = await client.post("/api/v1/agents", json=AGENT, headers=ada.headers)
    assert created.status == 201
    await self_onboarded(client, ada.headers, {**AGENT, "name": "Echo Too"})
    statuses = [(await client.get(SEARCH)).status for _ in range(SEARCH_LIMIT + 1)]
    assert statuses == [200] * SEARCH_LIMIT + [429]

    after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "avreg_http_requests_total"
    assert moved(requests, method="POST", route="/api/v1/auth/register", status="201") == 1
    assert moved(requests, method="POST", route="/api/v1/auth/login", status="200") == 1
    assert moved(requests, method="POST", route="/api/v1/agents", status="201") == 1
    search = {"method": "GET", "route": "/api/v1/discovery/agents"}
    assert moved(requests, **search, status="200") == SEARCH_LIMIT
    assert moved(requests, **search, status="429") == 1
    assert moved("avreg_http_request_duration_seconds_count", **search, status="200") == 4
    assert moved(requests, method="GET", route="/metrics", status="200") == 1
    assert moved("avreg_rate_limit_rejections_total", limit="discovery.search") == 1
    # One search computed, then answered from the cache until the limit stopped the caller.
    assert moved("avreg_discovery_query_duration_seconds_count", query="search") == 1
    assert moved("avreg_cache_lookups_total", cache="discovery", result="miss") == 1
    assert moved("avreg_cache_lookups_total", cache="discovery", result="hit") == SEARCH_LIMIT - 1
    assert moved("avreg_bootstrap_tokens_issued_total") == 1
    assert moved("avreg_bootstrap_tokens_consumed_total") == 1
    assert value(after, "avreg_agents", status="active") == 2
    assert value(after, "avreg_agents", status="deleted") == 0


async def test_routes_are_labelled_by_template_never_by_path(aiohttp_client, make_app):
    client = await aiohttp_client(metrics_app(make_app))
    agent_id, junk = str(uuid.uuid4()), uuid.uuid4().hex
    assert (await client.get(f"/api/v1/agents/{agent_id}")).status == 404
    assert (await client.get(f"/no/such/{junk}")).status == 404
    assert (await client.request("PROPFIND", "/health")).status == 405

    response = await client.get("/metrics")
    text = await response.text()

    assert agent_id not in text and junk not in text
    scraped = samples(text)
    requests = "avreg_http_requests_total"
    labels = {"method": "GET", "status": "404"}
    assert value(scraped, requests, route="/api/v1/agents/{agent_id}", **labels) >= 1
    assert value(scraped, requests, route="unmatched", **labels) >= 1
    unknown_method = {"method": "other", "route": "unmatched", "status": "405"}
    assert value(scraped, requests, **unknown_method) >= 1
    assert not any(labels.get("method") == "PROPFIND" for _, labels in map(_labels, scraped))


async def test_a_failing_backend_is_counted_and_the_scrape_still_answers(aiohttp_client, make_app):
    client = await aiohttp_client(metrics_app(make_app))
    before = await scrape(client)
    await client.app[STORAGE].records.close()
    client.app[AGENT_COUNTER].max_age = 0

    failed = await client.get(f"/api/v1/agents/{uuid.uuid4()}")
    assert failed.status == 503

    after = await scrape(client)
    errors = {"kind": "records", "backend": "sqlite"}
    assert (
        value(after, "avreg_backend_errors_total", **errors)
        - value(before, "avreg_backend_errors_total", **errors)
        == 1
    )
    route = {"method": "GET", "route": "/api/v1/agents/{agent_id}", "status": "503"}
    assert value(after, "avreg_http_requests_total", **route) >= 1


async def test_a_token_is_required_when_configured(aiohttp_client, make_app):
    client = await aiohttp_client(metrics_app(make_app, metrics={"token": TOKEN}))
    missing = await client.get("/metrics")
    wrong = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
    other_scheme = await client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})

    assert [missing.status, wrong.status, other_scheme.status] == [401, 401, 401]
    assert (await missing.json())["error"] == "authentication_required"
    assert (await wrong.json())["error"] == "invalid_credentials"
    await scrape(client, Authorization=f"Bearer {TOKEN}")


async def test_a_peer_outside_the_allowed_networks_is_refused(aiohttp_client, make_app):
    client = await aiohttp_client(
        metrics_app(make_app, metrics={"allow_networks": ["10.0.0.0/8", "fd00::/8"]})
    )
    refused = await client.get("/metrics")
    assert refused.status == 403
    assert (await refused.json())["error"] == "forbidden"


async def test_the_allowed_networks_and_the_token_both_apply(aiohttp_client, make_app):
    guarded = {"allow_networks": ["127.0.0.0/8"], "token": TOKEN}
    client = await aiohttp_client(metrics_app(make_app, metrics=guarded))
    assert (await client.get("/metrics")).status == 401
    await scrape(client, Authorization=f"Bearer {TOKEN}")


async def test_disabled_metrics_are_not_served(aiohttp_client, make_app):
    client = await aiohttp_client(metrics_app(make_app, metrics={"enabled": False}))
    response = await client.get("/metrics")
    assert response.status == 404
    assert (await response.json())["error"] == "not_found"


def production(make_app, **metrics):
    return metrics_app(
        make_app,
        mode="production",
        security={"jwt_secret": "p" * 48},
        storage={"allow_embedded": True},
        server={"trusted_proxies": ["127.0.0.0/8"], "public_url": "https://registry.example.org"},
        plugins={"auth": {"bcrypt_cost": 4}, "federation": {"token_key": "f" * 48}},
        metrics=metrics,
    )


async def test_unguarded_production_metrics_answer_loopback_only(aiohttp_client, make_app):
    client = await aiohttp_client(production(make_app))
    await scrape(client)
    remote = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert remote.status == 403


async def test_a_production_token_opens_metrics_to_any_address(aiohttp_client, make_app):
    client = await aiohttp_client(production(make_app, token=TOKEN))
    await scrape(client, Authorization=f"Bearer {TOKEN}", **{"X-Forwarded-For": "203.0.113.9"})


def test_a_short_token_or_a_bad_network_is_a_config_error(make_settings):
    with pytest.raises(ConfigError, match=r"metrics\.token"):
        make_settings({"metrics": {"token": "short"}})
    with pytest.raises(ConfigError, match=r"metrics\.allow_networks"):
        make_settings({"metrics": {"allow_networks": ["not a network"]}})
