"""A fake TEG on loopback, and registries bridging to it on memory and Redis caches."""

from __future__ import annotations

import pytest
from teg_helpers import JWKS, app_overrides

from fake_teg import FakeTeg


@pytest.fixture
async def fake_teg():
    teg = await FakeTeg().start()
    yield teg
    await teg.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def cache_overrides(request) -> dict:
    if request.param == "memory":
        return {}
    url = request.getfixturevalue("redis_server_url")
    prefix = request.getfixturevalue("redis_key_prefix")
    return {"storage": {"cache": {"backend": "redis", "url": url, "key_prefix": prefix}}}


@pytest.fixture
def bridged_registry(aiohttp_client, make_app, fake_teg):
    """``await bridged_registry(options, plugins=..., **overrides)``: a registry whose TEG
    bridge points at ``fake_teg`` (over http on loopback), which verifies its assertions
    against this registry's JWK Set."""

    async def start(options: dict | None = None, *, plugins=(), **overrides):
        bridge = {"token_url": fake_teg.url, "allow_http": True, "allow_private": True}
        plugin_sections = {**overrides.pop("plugins", {}), "teg_bridge": bridge | (options or {})}
        settings = app_overrides(plugins=plugin_sections, **overrides)
        client = await aiohttp_client(make_app(settings, plugins=plugins))
        fake_teg.jwks_url = str(client.make_url(JWKS))
        return client

    return start
