"""The conformance suite every cache backend must pass.

Use it from a test module by subclassing and providing an async ``cache`` fixture that yields
an opened backend with no keys (a fresh key prefix will do)::

    class TestMyCache(CacheConformance):
        @pytest.fixture
        async def cache(self):
            backend = MyCache(...)
            await backend.open()
            yield backend
            await backend.close()
"""

from __future__ import annotations

import asyncio

import pytest

from agentvault_registry.core.errors import BackendError
from agentvault_registry.storage_backends.base import CacheBackend

#: Short enough to keep the suite quick, long enough that a loaded machine still sees the
#: value before it expires.
# Generous enough that a value set a moment ago is still there on a busy machine.
SHORT_TTL = 1.0
PAST_SHORT_TTL = 1.3


class CacheConformance:
    # ------------------------------------------------------------------ get / set

    async def test_get_absent_key_is_none(self, cache: CacheBackend) -> None:
        assert await cache.get("absent") is None

    async def test_set_then_get(self, cache: CacheBackend) -> None:
        await cache.set("k", b"value")
        assert await cache.get("k") == b"value"

    async def test_keys_are_independent(self, cache: CacheBackend) -> None:
        await cache.set("k1", b"one")
        await cache.set("k2", b"two")
        assert (await cache.get("k1"), await cache.get("k2")) == (b"one", b"two")

    async def test_value_expires_after_ttl(self, cache: CacheBackend) -> None:
        await cache.set("k", b"v", ttl=SHORT_TTL)
        assert await cache.get("k") == b"v"
        await asyncio.sleep(PAST_SHORT_TTL)
        assert await cache.get("k") is None
        assert await cache.ttl("k") is None

    async def test_set_replaces_value_and_expiry(self, cache: CacheBackend) -> None:
        await cache.set("k", b"old", ttl=SHORT_TTL)
        await cache.set("k", b"new")
        assert await cache.ttl("k") is None
        await asyncio.sleep(PAST_SHORT_TTL)
        assert await cache.get("k") == b"new"

    async def test_ttl_reports_remaining_seconds(self, cache: CacheBackend) -> None:
        await cache.set("expiring", b"v", ttl=10)
        await cache.set("forever", b"v")
        remaining = await cache.ttl("expiring")
        assert remaining is not None and 9 < remaining <= 10
        assert await cache.ttl("forever") is None
        assert await cache.ttl("absent") is None

    @pytest.mark.parametrize("ttl", [0, -1])
    async def test_non_positive_ttl_is_refused(self, cache: CacheBackend, ttl: float) -> None:
        with pytest.raises(ValueError):
            await cache.set("k", b"v", ttl=ttl)
        with pytest.raises(ValueError):
            await cache.add("k", b"v", ttl=ttl)
        with pytest.raises(ValueError):
            await cache.incr("k", ttl=ttl)
        with pytest.raises(ValueError):
            await cache.compare_and_set("k", None, b"v", ttl=ttl)
        assert await cache.get("k") is None

    async def test_binary_values_roundtrip(self, cache: CacheBackend) -> None:
        every_byte = bytes(range(256)) * 4
        await cache.set("binary", every_byte)
        await cache.set("empty", b"")
        assert await cache.get("binary") == every_byte
        assert await cache.get("empty") == b""

    # ------------------------------------------------------------------------ add

    async def test_add_stores_only_when_absent(self, cache: CacheBackend) -> None:
        assert await cache.add("k", b"first") is True
        assert await cache.add("k", b"second") is False
        assert await cache.get("k") == b"first"

    async def test_add_succeeds_once_the_key_expired(self, cache: CacheBackend) -> None:
        assert await cache.add("k", b"first", ttl=SHORT_TTL) is True
        await asyncio.sleep(PAST_SHORT_TTL)
        assert await cache.add("k", b"second") is True
        assert await cache.get("k") == b"second"

    async def test_concurrent_adds_have_one_winner(self, cache: CacheBackend) -> None:
        results = await asyncio.gather(*(cache.add("k", b"%d" % i) for i in range(20)))
        assert results.count(True) == 1
        assert await cache.get("k") == b"%d" % results.index(True)

    # ---------------------------------------------------------------- delete / pop

    async def test_delete_reports_whether_the_key_existed(self, cache: CacheBackend) -> None:
        assert await cache.delete("k") is False
        await cache.set("k", b"v")
        assert await cache.delete("k") is True
        assert await cache.get("k") is None
        assert await cache.delete("k") is False

    async def test_delete_of_an_expired_key_reports_absent(self, cache: CacheBackend) -> None:
        await cache.set("k", b"v", ttl=SHORT_TTL)
        await asyncio.sleep(PAST_SHORT_TTL)
        assert await cache.delete("k") is False

    async def test_pop_returns_the_value_once(self, cache: CacheBackend) -> None:
        await cache.set("k", b"v")
        assert await cache.pop("k") == b"v"
        assert await cache.pop("k") is None
        assert await cache.get("k") is None

    async def test_concurrent_pops_see_the_value_once(self, cache: CacheBackend) -> None:
        await cache.set("token", b"single-use")
        results = await asyncio.gather(*(cache.pop("token") for _ in range(20)))
        assert [result for result in results if result is not None] == [b"single-use"]

    # ----------------------------------------------------------------------- incr

    async def test_incr_counts_from_zero(self, cache: CacheBackend) -> None:
        assert await cache.incr("n") == 1
        assert await cache.incr("n", 5) == 6
        assert await cache.incr("n", -2) == 4
        assert await cache.get("n") == b"4"

    async def test_incr_continues_a_counter_that_was_set(self, cache: CacheBackend) -> None:
        await cache.set("n", b"41")
        assert await cache.incr("n") == 42

    async def test_incr_is_atomic_under_concurrency(self, cache: CacheBackend) -> None:
        results = await asyncio.gather(*(cache.incr("n") for _ in range(50)))
        assert sorted(results) == list(range(1, 51))
        assert await cache.get("n") == b"50"

    async def test_incr_sets_ttl_only_when_creating(self, cache: CacheBackend) -> None:
        assert await cache.incr("window", ttl=SHORT_TTL) == 1
        assert await cache.incr("window", ttl=100) == 2
        remaining = await cache.ttl("window")
        assert remaining is not None and remaining <= SHORT_TTL
        await asyncio.sleep(PAST_SHORT_TTL)
        assert await cache.get("window") is None
        assert await cache.incr("window") == 1

    async def test_incr_without_ttl_keeps_the_window(self, cache: CacheBackend) -> None:
        await cache.incr("window", ttl=10)
        await cache.incr("window")
        remaining = await cache.ttl("window")
        assert remaining is not None and remaining > 9

    async def test_incr_of_a_non_integer_raises_value_error(self, cache: CacheBackend) -> None:
        await cache.set("text", b"not a number")
        with pytest.raises(ValueError):
            await cache.incr("text")
        assert await cache.get("text") == b"not a number"

    # ------------------------------------------------------------ compare_and_set

    async def test_compare_and_set_expected_none_means_absent(self, cache: CacheBackend) -> None:
        assert await cache.compare_and_set("k", None, b"first") is True
        assert await cache.compare_and_set("k", None, b"second") is False
        assert await cache.get("k") == b"first"

    async def test_compare_and_set_replaces_a_matching_value(self, cache: CacheBackend) -> None:
        await cache.set("k", b"a")
        assert await cache.compare_and_set("k", b"a", b"b") is True
        assert await cache.compare_and_set("k", b"a", b"c") is False
        assert await cache.get("k") == b"b"

    async def test_compare_and_set_empty_is_not_absent(self, cache: CacheBackend) -> None:
        assert await cache.compare_and_set("k", b"", b"v") is False
        await cache.set("k", b"")
        assert await cache.compare_and_set("k", None, b"v") is False
        assert await cache.compare_and_set("k", b"", b"v") is True

    async def test_compare_and_set_applies_ttl(self, cache: CacheBackend) -> None:
        await cache.set("k", b"a")
        assert await cache.compare_and_set("k", b"a", b"b", ttl=SHORT_TTL) is True
        await asyncio.sleep(PAST_SHORT_TTL)
        assert await cache.get("k") is None
        assert await cache.compare_and_set("k", None, b"c") is True

    async def test_concurrent_compare_and_set_has_one_winner(self, cache: CacheBackend) -> None:
        await cache.set("k", b"start")
        results = await asyncio.gather(
            *(cache.compare_and_set("k", b"start", b"%d" % i) for i in range(20))
        )
        assert results.count(True) == 1
        assert await cache.get("k") == b"%d" % results.index(True)

    # ------------------------------------------------------------------ lifecycle

    async def test_ping_answers(self, cache: CacheBackend) -> None:
        await cache.ping()

    async def test_use_after_close_raises_backend_error(self, cache: CacheBackend) -> None:
        await cache.close()
        await cache.close()
        with pytest.raises(BackendError):
            await cache.get("k")
        with pytest.raises(BackendError):
            await cache.set("k", b"v")
        with pytest.raises(BackendError):
            await cache.incr("k")
        with pytest.raises(BackendError):
            await cache.ping()
