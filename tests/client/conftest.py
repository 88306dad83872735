"""Registries on loopback for the client library and CLI, and a client config directory of
the test's own."""

from __future__ import annotations

import pytest
from client_harness import ThreadedRegistry, client_overrides

from registry_harness import start_registry


@pytest.fixture(autouse=True)
def client_config_dir(tmp_path, monkeypatch):
    """Keep the client's config and credentials in the test's directory, and the caller's
    environment out of it."""
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    for name in (
        "AGENTVAULT_REGISTRY_URL",
        "AGENTVAULT_REGISTRY_API_KEY",
        "AGENTVAULT_REGISTRY_CONFIG_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    return home / "agentvault-registry"


@pytest.fixture
async def registry(make_settings, tmp_path):
    """A registry on loopback in the test's event loop, with an admin logged in."""
    started = await start_registry(make_settings, "Client", client_overrides(tmp_path / "data"))
    yield started
    await started.session.close()
    await started.runner.cleanup()


@pytest.fixture
def served_registry(make_settings, tmp_path):
    """A registry on loopback served from a thread, for commands that run their own loop."""
    served = ThreadedRegistry(make_settings, client_overrides(tmp_path / "data"))
    yield served
    served.close()
