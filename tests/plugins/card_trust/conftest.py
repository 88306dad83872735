"""A registry that may fetch keys from loopback, and a loopback JWK Set server."""

from __future__ import annotations

import pytest
from card_keys import new_key, start_key_server


@pytest.fixture
async def key_server():
    server = await start_key_server()
    yield server
    await server.runner.cleanup()


@pytest.fixture(scope="session")
def keys():
    """One key per accepted algorithm (RSA generation is slow: made once)."""
    return {alg: new_key(alg) for alg in ("EdDSA", "ES256", "RS256")}
