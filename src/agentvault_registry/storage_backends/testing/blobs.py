"""The conformance suite every blob backend must pass.

Use it from a test module by subclassing and providing an async ``blobs`` fixture that yields
an opened, empty backend::

    class TestMyBlobs(BlobsConformance):
        @pytest.fixture
        async def blobs(self):
            backend = MyBlobs(...)
            await backend.open()
            yield backend
            await backend.close()
"""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from agentvault_registry.core.errors import BackendError, NotFound
from agentvault_registry.storage_backends.base import BlobBackend

INVALID_KEYS = ["../x", "a/../b", "/abs", "", "a//b", "a/", "./a", ".hidden", "a b", "x" * 513]


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


async def all_keys(blobs: BlobBackend, prefix: str = "") -> list[str]:
    return [key async for key in blobs.list(prefix)]


class BlobsConformance:
    # ------------------------------------------------------------------ put / get

    async def test_put_then_get_roundtrips(self, blobs: BlobBackend) -> None:
        data = b'{"name": "weather agent"}'
        info = await blobs.put("cards/weather.json", data, "application/json")
        assert info.key == "cards/weather.json"
        assert info.size == len(data)
        assert info.etag == md5_hex(data)
        assert info.content_type == "application/json"
        blob = await blobs.get("cards/weather.json")
        assert blob.data == data
        assert blob.info == info

    async def test_default_content_type_is_octet_stream(self, blobs: BlobBackend) -> None:
        info = await blobs.put("raw", b"bytes")
        assert info.content_type == "application/octet-stream"
        assert (await blobs.stat("raw")).content_type == "application/octet-stream"

    async def test_same_content_has_the_same_etag(self, blobs: BlobBackend) -> None:
        first = await blobs.put("one", b"same", "text/plain")
        second = await blobs.put("two", b"same", "application/json")
        different = await blobs.put("three", b"other")
        assert first.etag == second.etag != different.etag

    async def test_put_replaces_data_and_content_type(self, blobs: BlobBackend) -> None:
        await blobs.put("doc", b"version one", "text/plain")
        info = await blobs.put("doc", b"version two, longer", "application/json")
        blob = await blobs.get("doc")
        assert blob.data == b"version two, longer"
        assert blob.info == info
        assert await blobs.stat("doc") == info

    async def test_binary_and_empty_data_roundtrip(self, blobs: BlobBackend) -> None:
        every_byte = bytes(range(256)) * 16
        await blobs.put("binary", every_byte)
        await blobs.put("empty", b"")
        assert (await blobs.get("binary")).data == every_byte
        empty = await blobs.get("empty")
        assert (empty.data, empty.info.size, empty.info.etag) == (b"", 0, md5_hex(b""))

    async def test_five_mebibytes_roundtrip(self, blobs: BlobBackend) -> None:
        data = os.urandom(5 * 1024 * 1024)
        info = await blobs.put("large/artifact.bin", data)
        assert info.etag == md5_hex(data)
        blob = await blobs.get("large/artifact.bin")
        assert blob.data == data
        assert blob.info.size == len(data)

    async def test_concurrent_puts_leave_one_consistent_blob(self, blobs: BlobBackend) -> None:
        versions = [b"version %d " % i * (i + 1) for i in range(10)]
        await asyncio.gather(*(blobs.put("raced", data, f"text/v{len(data)}") for data in versions))
        blob = await blobs.get("raced")
        assert blob.data in versions
        assert await blobs.stat("raced") == blob.info
        assert blob.info.content_type == f"text/v{len(blob.data)}"

    # --------------------------------------------------------- stat / exists / delete

    async def test_stat_describes_without_content(self, blobs: BlobBackend) -> None:
        info = await blobs.put("a/b/c.txt", b"hello", "text/plain")
        assert await blobs.stat("a/b/c.txt") == info

    async def test_exists(self, blobs: BlobBackend) -> None:
        assert await blobs.exists("doc") is False
        await blobs.put("doc", b"x")
        assert await blobs.exists("doc") is True

    async def test_delete_reports_whether_it_existed(self, blobs: BlobBackend) -> None:
        assert await blobs.delete("doc") is False
        await blobs.put("doc", b"x")
        assert await blobs.delete("doc") is True
        assert await blobs.exists("doc") is False
        assert await blobs.delete("doc") is False

    @pytest.mark.parametrize("operation", ["get", "stat"])
    async def test_missing_blob_is_not_found(self, blobs: BlobBackend, operation: str) -> None:
        with pytest.raises(NotFound):
            await getattr(blobs, operation)("missing")
        await blobs.put("deleted", b"x")
        await blobs.delete("deleted")
        with pytest.raises(NotFound):
            await getattr(blobs, operation)("deleted")

    async def test_a_key_and_keys_below_it_coexist(self, blobs: BlobBackend) -> None:
        await blobs.put("agent", b"card")
        await blobs.put("agent/history/1", b"old card")
        assert (await blobs.get("agent")).data == b"card"
        assert (await blobs.get("agent/history/1")).data == b"old card"
        assert await blobs.delete("agent") is True
        assert (await blobs.get("agent/history/1")).data == b"old card"

    # ----------------------------------------------------------------------- list

    async def test_list_is_sorted_and_filtered_by_prefix(self, blobs: BlobBackend) -> None:
        keys = ["b", "a/c/d", "ab", "a", "a/b", "a-z", "a/c/e.json", "B"]
        for key in keys:
            await blobs.put(key, key.encode())
        assert await all_keys(blobs) == sorted(keys)
        assert await all_keys(blobs, "a/") == ["a/b", "a/c/d", "a/c/e.json"]
        assert await all_keys(blobs, "a") == ["a", "a-z", "a/b", "a/c/d", "a/c/e.json", "ab"]
        assert await all_keys(blobs, "a/c/") == ["a/c/d", "a/c/e.json"]
        assert await all_keys(blobs, "a/c/e") == ["a/c/e.json"]
        assert await all_keys(blobs, "zzz") == []
        assert await all_keys(blobs, "../") == []

    async def test_list_leaves_out_deleted_blobs(self, blobs: BlobBackend) -> None:
        await blobs.put("x/1", b"1")
        await blobs.put("x/2", b"2")
        await blobs.delete("x/1")
        assert await all_keys(blobs, "x/") == ["x/2"]

    async def test_list_of_an_empty_store_is_empty(self, blobs: BlobBackend) -> None:
        assert await all_keys(blobs) == []

    # ------------------------------------------------------------------- bad keys

    async def test_invalid_keys_raise_value_error(self, blobs: BlobBackend) -> None:
        for key in INVALID_KEYS:
            with pytest.raises(ValueError):
                await blobs.put(key, b"x")
            for operation in ("get", "stat", "exists", "delete"):
                with pytest.raises(ValueError):
                    await getattr(blobs, operation)(key)
        assert await all_keys(blobs) == []

    # ------------------------------------------------------------------ lifecycle

    async def test_ping_answers(self, blobs: BlobBackend) -> None:
        await blobs.ping()

    async def test_close_is_idempotent_and_use_after_close_fails(self, blobs: BlobBackend) -> None:
        await blobs.close()
        await blobs.close()
        with pytest.raises(BackendError):
            await blobs.get("doc")
        with pytest.raises(BackendError):
            await blobs.put("doc", b"x")
