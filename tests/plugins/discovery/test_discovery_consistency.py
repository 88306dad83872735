"""What the cache must never do: hide a write, mix two searches, or fail a search."""

from __future__ import annotations

import asyncio

import pytest
from discovery_helpers import account, app_overrides, names

SEARCH = "/api/v1/discovery/agents"
AGENT = {
    "description": "Found through another process.",
    "apiEndpoints": ["https://shared.example.net/a2a"],
    "capabilities": ["shared-capability"],
}


@pytest.fixture
def shared_registry(aiohttp_client, make_app, tmp_path, redis_server_url, redis_key_prefix):
    """Start "processes" of one registry: one SQLite file, one Redis cache."""

    async def start():
        overrides = app_overrides(
            data_dir=str(tmp_path / "shared"),
            storage={
                "cache": {
                    "backend": "redis",
                    "url": redis_server_url,
                    "key_prefix": redis_key_prefix,
                }
            },
        )
        return await aiohttp_client(make_app(overrides))

    return start


@pytest.mark.redis
async def test_a_write_in_one_process_invalidates_the_others(shared_registry):
    first, second = await shared_registry(), await shared_registry()
    headers, _ = await account(first, "ada")
    query = f"{SEARCH}?capabilities=shared-capability"
    assert names(await (await second.get(query)).json()) == []
    created = await first.post("/api/v1/agents", json={"name": "Shared", **AGENT}, headers=headers)
    assert created.status == 201
    # The writer's own process sees it at once; the other once the shared bump lands.
    assert names(await (await first.get(query)).json()) == ["Shared"]
    for _ in range(100):
        if names(await (await second.get(query)).json()) == ["Shared"]:
            break
        await asyncio.sleep(0.02)
    assert names(await (await second.get(query)).json()) == ["Shared"]


@pytest.mark.redis
async def test_two_processes_never_share_an_answer_by_accident(shared_registry):
    """Equal per-process counters in two processes must not make one serve the other's
    answer from before its own write (the shared counter may lag or fail)."""
    first, second = await shared_registry(), await shared_registry()
    headers, _ = await account(first, "bea")
    query = f"{SEARCH}?capabilities=shared-capability"
    await second.get(query)  # cached by the second process, empty
    created = await first.post("/api/v1/agents", json={"name": "Mine", **AGENT}, headers=headers)
    assert created.status == 201
    assert names(await (await first.get(query)).json()) == ["Mine"]
