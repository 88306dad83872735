from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from marshmallow import ValidationError

from agentvault_registry.storage_backends.memory_cache import MemoryCache, MemoryCacheOptions
from agentvault_registry.storage_backends.spec import BackendContext
from agentvault_registry.storage_backends.testing import CacheConformance

CONTEXT = BackendContext(data_dir=Path("unused"), production=False)


def memory_cache(**options: object) -> MemoryCache:
    return MemoryCache.from_options(MemoryCacheOptions().load(options), CONTEXT)


class TestMemoryCache(CacheConformance):
    @pytest.fixture
    async def cache(self) -> AsyncIterator[MemoryCache]:
        backend = memory_cache()
        await backend.open()
        yield backend
        await backend.close()


def test_options_default_to_a_hundred_thousand_entries() -> None:
    assert MemoryCacheOptions().load({}) == {"max_entries": 100_000}


@pytest.mark.parametrize(
    "options",
    [{"max_entries": "lots"}, {"max_entries": True}, {"max_entries": 0}, {"size": 10}],
)
def test_options_refuse_wrong_types_and_unknown_keys(options: dict) -> None:
    with pytest.raises(ValidationError):
        MemoryCacheOptions().load(options)


async def test_full_cache_evicts_the_oldest_entry() -> None:
    cache = memory_cache(max_entries=3)
    await cache.open()
    for key in ("a", "b", "c"):
        await cache.set(key, b"v")
    await cache.set("a", b"rewritten")  # a rewrite makes "a" the newest
    await cache.set("d", b"v")
    assert [await cache.get(key) for key in "abcd"] == [b"rewritten", None, b"v", b"v"]
    await cache.close()


async def test_full_cache_evicts_expired_entries_before_live_ones() -> None:
    cache = memory_cache(max_entries=3)
    await cache.open()
    await cache.set("live-1", b"v")
    await cache.set("expiring", b"v", ttl=0.05)
    await cache.set("live-2", b"v")
    await asyncio.sleep(0.1)
    await cache.set("new", b"v")
    assert [await cache.get(key) for key in ("live-1", "live-2", "new")] == [b"v"] * 3
    await cache.close()


async def test_overwritten_expiring_keys_do_not_grow_memory_without_bound() -> None:
    cache = memory_cache(max_entries=10)
    await cache.open()
    for round_number in range(1000):
        await cache.set("k", b"%d" % round_number, ttl=60)
    assert len(cache._deadlines) < 100
    await cache.close()


def test_describe_names_the_bound() -> None:
    assert memory_cache(max_entries=5).describe() == "memory (max 5 entries)"
