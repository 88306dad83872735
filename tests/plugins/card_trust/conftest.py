"""A registry that may fetch keys from loopback, and a loopback JWK Set server."""

from __future__ import annotations

import pytest
from card_keys import new_key, start_key_server

from support import fast_registry

LIMITS = ("auth.login", "auth.register", "auth.refresh", "auth.login_failures", "agents.create")


def trust_overrides(private: bool = True, storage: dict | None = None, **card_trust) -> dict:
    """A registry that may fetch from loopback (``private``) over http, with ``card_trust``
    options and ``storage`` overrides."""
    return fast_registry(
        LIMITS,
        outbound={"allow_private_targets": private},
        plugins={"card_trust": {"allow_http_keys": True, **card_trust}},
        storage=storage or {},
    )


@pytest.fixture
async def key_server():
    server = await start_key_server()
    yield server
    await server.runner.cleanup()


@pytest.fixture(scope="session")
def keys():
    """One key per accepted algorithm (RSA generation is slow: made once)."""
    return {alg: new_key(alg) for alg in ("EdDSA", "ES256", "RS256")}
