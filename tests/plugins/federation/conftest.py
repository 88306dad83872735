"""Registries on loopback, each with its own storage and port, stopped after the test."""

from __future__ import annotations

import pytest

from registry_harness import FakePeer, registries, start_fake_peer


@pytest.fixture
async def registry_factory(make_settings, tmp_path):
    """``await registry_factory("Name", overrides)``: a running registry (SQLite records in
    its own data dir unless ``overrides`` say otherwise) with an admin logged in."""
    async with registries(make_settings, tmp_path) as start:
        yield start


@pytest.fixture
async def fake_peer_factory():
    started: list[FakePeer] = []

    async def start(behaviour, changes=None) -> FakePeer:
        peer = await start_fake_peer(behaviour, changes)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        await peer.close()
