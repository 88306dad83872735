"""Federated queries show in /metrics per peer: latency observed and outcome counted, cached
answers counted as cache hits, not as queries."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families

from agentvault_registry.core.appkeys import BACKGROUND_TASKS
from registry_harness import answering, failing, remote_agent


async def scrape(registry) -> dict[tuple[str, frozenset], float]:
    response = await registry.request("GET", "/metrics")
    assert response.status == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(await response.text())
        for sample in family.samples
    }


def moved(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_each_peer_query_is_timed_and_counted_by_outcome(registry_factory, fake_peer_factory):
    home = await registry_factory("Home")
    echo = await fake_peer_factory(answering(remote_agent("Echo Scribe")))
    broken = await fake_peer_factory(failing)
    await home.add_peer("Echo", echo.url, "avf_token_for_echo")
    await home.add_peer("Broken", broken.url, "avf_token_for_broken")
    before = await scrape(home)

    await home.search("scribe")
    # Answers are kept in the background: the second search must find Echo's there.
    await asyncio.gather(*home.app[BACKGROUND_TASKS])
    await home.search("scribe")  # Echo's answer now comes from the cache; Broken is asked again

    after = await scrape(home)
    requests = "avreg_federation_peer_requests_total"
    assert moved(before, after, requests, peer="Echo", status="ok") == 1
    assert moved(before, after, requests, peer="Broken", status="error") == 2
    duration = "avreg_federation_peer_request_duration_seconds_count"
    assert moved(before, after, duration, peer="Echo") == 1
    assert moved(before, after, duration, peer="Broken") == 2
    lookups = "avreg_cache_lookups_total"
    assert moved(before, after, lookups, cache="federation", result="hit") == 1
    assert moved(before, after, lookups, cache="federation", result="miss") == 3
