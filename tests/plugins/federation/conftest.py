"""Registries on loopback, each with its own storage and port, stopped after the test."""

from __future__ import annotations

import pytest

from registry_harness import FakePeer, Registry, deep_merged, start_fake_peer, start_registry


@pytest.fixture
async def registry_factory(make_settings, tmp_path):
    """``await registry_factory("Name", overrides)``: a running registry (SQLite records in
    its own data dir unless ``overrides`` say otherwise) with an admin logged in."""
    started: list[Registry] = []

    async def start(name: str, overrides: dict | None = None) -> Registry:
        own = {"data_dir": str(tmp_path / f"registry-{len(started)}")}
        registry = await start_registry(make_settings, name, deep_merged(own, overrides or {}))
        started.append(registry)
        return registry

    yield start
    for registry in started:
        await registry.session.close()
        await registry.runner.cleanup()


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
