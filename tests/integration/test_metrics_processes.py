"""Two registry processes sharing PROMETHEUS_MULTIPROC_DIR: a scrape of either counts both."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from registry_processes import production_env, running_registries

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

HEALTH = {"method": "GET", "route": "/health", "status": "200"}


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


async def get(url: str) -> tuple[int, str]:
    return await asyncio.to_thread(_get, url)


async def health_requests(registry) -> float:
    status, text = await get(f"{registry.url}/metrics")
    assert status == 200
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "avreg_http_requests_total" and sample.labels == HEALTH
    )


async def test_counters_of_two_processes_add_up_on_a_scrape(
    tmp_path, fresh_postgres_dsn, redis_server_url, redis_key_prefix
):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = {
        **production_env(fresh_postgres_dsn, redis_server_url, redis_key_prefix, tmp_path),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    async with running_registries(tmp_path, [env, env]) as (first, second):
        for _ in range(3):
            assert (await get(f"{first.url}/health"))[0] == 200
        for _ in range(2):
            assert (await get(f"{second.url}/health"))[0] == 200

        assert await health_requests(first) == 5
        assert await health_requests(second) == 5
    assert len(list(metrics_dir.glob("counter_*.db"))) == 2
