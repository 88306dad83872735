"""A new agent's card is discarded when its creation fails: at once, unless the blob store
itself failed, when the discard runs in the background so the client's 503 does not wait on
the same store a second time."""

from __future__ import annotations

import asyncio
import time

import pytest

from agentvault_registry.core.errors import BackendError
from agentvault_registry.plugins.agents.cards import CardStore
from agentvault_registry.plugins.agents.service import AgentService
from agentvault_registry.storage_backends.filesystem_blobs import FilesystemBlobs
from sample_cards import V1_CARD

AGENT_ID = "0b9f4c1e-8a1e-4f6b-9a55-5d2f0c7e6a11"


class FailingSecondPut(FilesystemBlobs):
    """Stores the normalized card, then fails on the original, as a store that just went
    down; listing (the discard's first step) waits until the test lets it go on."""

    def __init__(self, root):
        super().__init__(root)
        self.puts = 0
        self.listing_allowed = asyncio.Event()

    async def put(self, key, data, content_type="application/json"):
        self.puts += 1
        if self.puts == 2:
            raise BackendError("The blob store is down.", backend=self.name)
        return await super().put(key, data, content_type)

    async def list(self, prefix=""):
        await self.listing_allowed.wait()
        async for key in super().list(prefix):
            yield key


@pytest.fixture
async def blobs(tmp_path):
    backend = FailingSecondPut(tmp_path / "blobs")
    await backend.open()
    yield backend
    await backend.close()


def service_with(blobs, spawned):
    cards = CardStore(blobs, http=None, spawn=lambda work, name: spawned.append(work))
    return AgentService(records=None, cards=cards, announce=None, check_signatures=None)


async def stored_keys(blobs):
    blobs.listing_allowed.set()
    return [key async for key in FilesystemBlobs.list(blobs, f"agents/{AGENT_ID}/")]


async def test_a_blob_store_failure_answers_without_waiting_for_the_discard(blobs):
    spawned = []
    service = service_with(blobs, spawned)
    started = time.monotonic()
    async with asyncio.timeout(5):  # a discard awaited here would wait for good
        with pytest.raises(BackendError):
            async with service.discarding_card_on_failure(AGENT_ID):
                await service.cards.store(AGENT_ID, V1_CARD)
    assert time.monotonic() - started < 1  # the discard's listing is still held
    assert len(spawned) == 1 and len(await stored_keys(blobs)) == 1

    await spawned[0]
    assert await stored_keys(blobs) == []


async def test_another_failure_discards_the_card_before_answering(blobs):
    spawned = []
    service = service_with(blobs, spawned)
    blobs.listing_allowed.set()
    blobs.puts = 2  # both documents are stored
    with pytest.raises(BackendError):
        async with service.discarding_card_on_failure(AGENT_ID):
            await service.cards.store(AGENT_ID, V1_CARD)
            raise BackendError("The records are down.", backend="postgresql")
    assert spawned == [] and await stored_keys(blobs) == []
